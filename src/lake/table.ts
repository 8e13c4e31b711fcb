// A Delta table in a lake: create, snapshots (cached, refreshed incrementally), writes and commits.

import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { isLakestreamError, LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';
import { cleanPath } from '../storage/index.ts';
import {
  type Action,
  type MetadataAction,
  parseCommit,
  type RemoveFile,
  serializeCommit,
  type TxnAction,
} from './actions.ts';
import { writeCheckpoint } from './checkpoint.ts';
import { fileKey } from './dv.ts';
import { listLog } from './log/listing.ts';
import {
  commitPath,
  loadLatestState,
  loadState,
  mapLimit,
  notATable,
  readCommit,
  refreshState,
} from './log/load.ts';
import { applyActions, cloneState, type LogState } from './log/replay.ts';
import { type CompactionOptions, optimizeTable, vacuumTable } from './maintenance.ts';
import { type Row, writeDataFiles } from './parquet.ts';
import { checkWritable, isAppendOnly, WRITE_PROTOCOL } from './protocol.ts';
import {
  describeSchema,
  type Field,
  sameSchema,
  type TableSpec,
  toSchemaString,
  validateSpec,
} from './schema.ts';
import { Snapshot } from './snapshot.ts';
import { createSnapshotView } from './sql.ts';
import {
  backoff,
  type CommitIntent,
  type CommitResult,
  type Resolution,
  removeFor,
  resolveAgainst,
  type WriteOptions,
} from './transaction.ts';

export type { CommitResult, WriteOptions } from './transaction.ts';

export interface HistoryEntry {
  version: number;
  timestamp: number;
  operation: string;
  operationParameters?: object;
}

/** Commits every this many versions get a checkpoint. */
export const CHECKPOINT_INTERVAL = 10;
const MAX_ATTEMPTS = 10_000;

export class DeltaTable {
  readonly path: string;
  readonly store: ObjectStore;
  private latest: Snapshot | undefined;
  private readonly old = new Map<number, Snapshot>();

  constructor(store: ObjectStore, path: string) {
    this.store = store;
    this.path = cleanPath(path);
  }

  private get where(): string {
    return `table ${this.path}`;
  }

  async exists(): Promise<boolean> {
    if (await this.store.stat(commitPath(this.path, 0))) return true;
    const log = await listLog(this.store, this.path);
    return log.commits.size > 0 || log.checkpoints.length > 0;
  }

  /**
   * Creates version 0; an existing table with the same schema is accepted, a different one is an error.
   * `rows` (optional) are in the table from version 0 on: written with its creation, so they land
   * exactly once however many creators race (version 0 is put-if-absent; a loser's files are never
   * committed).
   */
  async create(spec: TableSpec, rows: Row[] = []): Promise<void> {
    validateSpec(spec, this.path);
    const metadata: MetadataAction = {
      id: randomUUID(),
      name: null,
      description: spec.description ?? null,
      format: { provider: 'parquet', options: {} },
      schemaString: toSchemaString(
        spec.schema.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable ?? true })),
      ),
      partitionColumns: spec.partitionColumns ?? [],
      configuration: spec.configuration ?? {},
      createdTime: Date.now(),
    };
    const adds = await writeDataFiles({
      store: this.store,
      table: this.path,
      schema: spec.schema.map((f) => ({ ...f, nullable: f.nullable ?? true })),
      partitionColumns: metadata.partitionColumns,
      rows,
    });
    const actions: Action[] = [
      {
        commitInfo: {
          timestamp: Date.now(),
          // (Delta's name for a creation that holds rows)
          operation: adds.length > 0 ? 'CREATE TABLE AS SELECT' : 'CREATE TABLE',
          operationParameters: {
            mode: 'ErrorIfExists',
            partitionBy: JSON.stringify(metadata.partitionColumns),
          },
          engineInfo: 'lakestream',
        },
      },
      { protocol: WRITE_PROTOCOL },
      { metaData: metadata },
      ...adds.map((add) => ({ add })),
    ];
    const res = await this.store.putIfAbsent(commitPath(this.path, 0), serializeCommit(actions));
    if (res.written) return;
    await this.verify(spec);
  }

  /**
   * Creates the table when missing (safe when several processes race), else checks its schema.
   * `initialRows` gives the rows a table created now starts with (see create); it is called only then.
   */
  async ensure(spec: TableSpec, initialRows?: () => Promise<Row[]>): Promise<void> {
    if (await this.exists()) await this.verify(spec);
    else await this.create(spec, (await initialRows?.()) ?? []);
  }

  private async verify(spec: TableSpec): Promise<void> {
    const snap = await this.snapshot();
    const want = spec.schema.map((f) => ({ ...f, nullable: f.nullable ?? true }));
    const parts = spec.partitionColumns ?? [];
    if (!sameSchema(snap.schema, want) || snap.partitionColumns.join(',') !== parts.join(','))
      throw new LakestreamError(
        'CONFLICT',
        `${this.where} already exists with a different schema: it has (${describeSchema(snap.schema)}) partitioned by [${snap.partitionColumns.join(', ')}], the caller wants (${describeSchema(want)}) partitioned by [${parts.join(', ')}]`,
      );
  }

  /** The latest snapshot, or the one at `version` (time travel). */
  async snapshot(version?: number): Promise<Snapshot> {
    if (version !== undefined) {
      if (!Number.isInteger(version) || version < 0)
        throw new LakestreamError(
          'BAD_ARGUMENT',
          `${this.where}: version must be a whole number ≥ 0, got ${version}`,
        );
      if (this.latest?.version === version) return this.latest;
      const cached = this.old.get(version);
      if (cached) return cached;
      if (this.latest && version > this.latest.version) {
        const fresh = await this.snapshot();
        if (fresh.version === version) return fresh;
      }
      const snap = new Snapshot(this.path, await loadState(this.store, this.path, version));
      if (this.old.size >= 8) this.old.delete(this.old.keys().next().value!);
      this.old.set(version, snap);
      return snap;
    }
    if (this.latest) {
      const next = await refreshState(this.store, this.path, this.latest.state);
      if (next !== this.latest.state) this.remember(new Snapshot(this.path, next));
      return this.latest!;
    }
    const snap = new Snapshot(this.path, await loadLatestState(this.store, this.path));
    this.remember(snap);
    return snap;
  }

  private remember(s: Snapshot): void {
    if (!this.latest || s.version > this.latest.version) this.latest = s;
  }

  async txnVersion(appId: string): Promise<number | undefined> {
    return (await this.snapshot()).txnVersions.get(appId);
  }

  /**
   * The commitInfo of the commit that recorded exactly `version` of txn `appId`, looked for from the
   * latest commit back (a txn's versions only grow, so the walk stops once it is past them);
   * undefined when no commit still in the log records that version.
   */
  async txnCommitInfo(appId: string, version: number): Promise<Record<string, unknown> | undefined> {
    for (let v = (await this.snapshot()).version; v >= 0; v--) {
      const actions = await readCommit(this.store, this.path, v);
      if (!actions) return undefined; // removed by log cleanup
      const txn = (actions as { txn?: TxnAction }[]).find((a) => a.txn?.appId === appId);
      if (!txn?.txn) continue;
      if (Number(txn.txn.version) < version) return undefined;
      if (Number(txn.txn.version) === version)
        return (actions.find((a) => 'commitInfo' in a) as { commitInfo: Record<string, unknown> } | undefined)
          ?.commitInfo;
    }
    return undefined;
  }

  /** Writes rows as Parquet files (one per partition value) and commits them. */
  async write(rows: Row[], opts: WriteOptions = {}): Promise<CommitResult> {
    const snap = await this.snapshot();
    const skipped = alreadyApplied(snap, opts);
    if (skipped) return skipped;
    checkWritable(snap.protocol, snap.metadata, snap.schema, this.where);
    const adds = await writeDataFiles({
      store: this.store,
      table: this.path,
      schema: snap.schema,
      partitionColumns: snap.partitionColumns,
      rows,
      prefix: opts.filePrefix,
    });
    return this.commit(
      adds.map((add) => ({ add })),
      { ...opts, operationParameters: opts.operationParameters ?? { mode: 'Append' } },
    );
  }

  /** Commits actions (add, remove, txn, metaData …) as the next version, retrying blind appends. */
  async commit(actions: Action[], opts: WriteOptions = {}): Promise<CommitResult> {
    const snap = await this.snapshot();
    const skipped = alreadyApplied(snap, opts);
    if (skipped) return skipped;
    checkWritable(snap.protocol, snap.metadata, snap.schema, this.where);
    const body: Action[] = [...actions];
    if (opts.removeWhere) {
      const dataChange = opts.dataChange ?? true;
      const now = Date.now();
      for (const f of snap.files) if (opts.removeWhere(f)) body.push(removeFor(f, dataChange, now));
    }
    if (opts.txn)
      body.push({ txn: { appId: opts.txn.appId, version: opts.txn.version, lastUpdated: Date.now() } });
    const readWhere = opts.read?.where;
    const removeWhere = opts.removeWhere;
    const intent: CommitIntent = {
      removes: new Set(),
      removeWhere:
        removeWhere && readWhere ? (f) => removeWhere(f) || readWhere(f) : (removeWhere ?? readWhere),
      changesMetadata: false,
      txn: opts.txn,
    };
    for (const a of body) {
      const r = a as Record<string, unknown>;
      if (r.remove) {
        const rm = r.remove as RemoveFile;
        intent.removes.add(rm.path);
        if (rm.dataChange !== false && isAppendOnly(snap.metadata))
          throw new LakestreamError(
            'UNSUPPORTED',
            `${this.where} is append-only (delta.appendOnly=true): cannot remove ${rm.path}`,
          );
        if (!snap.state.files.has(fileKey(rm)))
          return {
            status: 'conflict',
            reason: `${rm.path} is not a live file of ${this.path} at version ${snap.version}`,
          };
      }
      if (r.metaData || r.protocol) intent.changesMetadata = true;
    }
    if (opts.read) {
      // What landed between the caller's read and now is checked as a winner of the race would be.
      const verdict = await this.checkLanded(intent, opts.read.version + 1, { to: snap.version });
      if (verdict.kind === 'conflict') return { status: 'conflict', reason: verdict.reason };
    }
    if (body.length === 0) return { status: 'committed', version: snap.version };
    const txns = body
      .filter((a) => 'txn' in a)
      .map((a) => (a as { txn: { appId: string; version: number } }).txn)
      .map((t) => ({ appId: t.appId, version: Number(t.version) }));
    if (txns.length > 0 && txns.every((x) => (snap.txnVersions.get(x.appId) ?? -1) >= x.version))
      return { status: 'skipped', reason: 'txn-already-applied', version: snap.version };
    const params = opts.operationParameters ?? {};
    // Names this commit, so a put whose answer was lost (a timeout) can tell whether it landed.
    const txnId = randomUUID();
    let base: LogState = snap.state;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const version = base.version + 1;
      const commitInfo = {
        commitInfo: {
          timestamp: Math.max(Date.now(), base.timestamp + 1),
          operation: opts.operation ?? 'WRITE',
          operationParameters: Object.fromEntries(
            Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
          ),
          readVersion: snap.version,
          isBlindAppend: intent.removes.size === 0 && !intent.changesMetadata,
          engineInfo: 'lakestream',
          txnId,
        },
      };
      const full = [commitInfo, ...body];
      const res = await this.putCommit(version, full, txnId);
      if (res.written) {
        const next = cloneState(base);
        applyActions(next, version, full, `${this.where} version ${version}`);
        const committed = new Snapshot(this.path, next);
        this.remember(committed);
        if (version % CHECKPOINT_INTERVAL === 0) await this.checkpointQuietly(next);
        return { status: 'committed', version };
      }
      // Another writer took this version: read what it did, then decide.
      const winner = await readCommit(this.store, this.path, version);
      if (!winner)
        throw new LakestreamError(
          'CORRUPT_TABLE',
          `${this.where}: ${commitPath(this.path, version)} exists but cannot be read`,
        );
      const next = cloneState(base);
      applyActions(next, version, winner, `${this.where}: ${commitPath(this.path, version)}`);
      let verdict = resolveAgainst(winner, version, intent);
      // Catch up on any further commits before the next attempt, each checked as the winner was.
      if (verdict.kind === 'retry') verdict = await this.checkLanded(intent, version + 1, { into: next });
      base = next;
      if (verdict.kind === 'skip') {
        this.remember(new Snapshot(this.path, base));
        return { status: 'skipped', reason: verdict.reason, version: base.version };
      }
      if (verdict.kind === 'conflict') {
        this.remember(new Snapshot(this.path, base));
        return { status: 'conflict', reason: verdict.reason };
      }
      // Every txn this commit records may now be recorded by others (a replayed batch): nothing to do.
      if (txns.length > 0) {
        const covered = txns.filter((x) => (base.txns.get(x.appId)?.version ?? -1) >= x.version).length;
        if (covered === txns.length) {
          this.remember(new Snapshot(this.path, base));
          return { status: 'skipped', reason: 'txn-already-applied', version: base.version };
        }
        if (covered > 0) {
          this.remember(new Snapshot(this.path, base));
          return {
            status: 'conflict',
            reason: `some of this commit's txn versions were committed concurrently by another writer`,
          };
        }
      }
      await backoff(attempt);
    }
    throw new LakestreamError(
      'CONFLICT',
      `${this.where}: gave up committing after ${MAX_ATTEMPTS} attempts`,
      { retriable: true },
    );
  }

  /**
   * Checks the commits from version `from` on — up to `to`, else as long as there are more — as
   * winners of a race against `intent`, applying each to `into` when given; stops at the first
   * verdict that is not 'retry'. A commit missing at or below `to` cannot be checked: a conflict.
   */
  private async checkLanded(
    intent: CommitIntent,
    from: number,
    opts: { to?: number; into?: LogState },
  ): Promise<Resolution> {
    for (let v = from; opts.to === undefined || v <= opts.to; v++) {
      const landed = await readCommit(this.store, this.path, v);
      if (!landed) {
        if (opts.to === undefined) break;
        return { kind: 'conflict', reason: `version ${v} cannot be read to check it` };
      }
      if (opts.into) applyActions(opts.into, v, landed, `${this.where}: ${commitPath(this.path, v)}`);
      const verdict = resolveAgainst(landed, v, intent);
      if (verdict.kind !== 'retry') return verdict;
    }
    return { kind: 'retry' };
  }

  /**
   * put-if-absent of one commit file. When the store fails without saying whether the put happened
   * (a timeout, a dropped connection), the file itself answers: ours (same txnId), another's, or none.
   */
  private async putCommit(version: number, actions: Action[], txnId: string): Promise<{ written: boolean }> {
    try {
      return await this.store.putIfAbsent(commitPath(this.path, version), serializeCommit(actions));
    } catch (e) {
      let there: Action[] | undefined;
      try {
        there = await readCommit(this.store, this.path, version);
      } catch {
        throw e;
      }
      if (!there) throw e;
      const info = there.find((a) => 'commitInfo' in a) as { commitInfo: { txnId?: string } } | undefined;
      return { written: info?.commitInfo.txnId === txnId };
    }
  }

  private async checkpointQuietly(state: LogState): Promise<void> {
    try {
      await writeCheckpoint(this.store, this.path, state);
    } catch (e) {
      // The commit stands; a missing checkpoint only makes the next cold read slower.
      process.emitWarning(
        `${this.where}: checkpoint at version ${state.version} failed: ${(e as Error).message}`,
      );
    }
  }

  /** Writes a checkpoint of the latest version now. */
  async checkpoint(): Promise<number> {
    const snap = await this.snapshot();
    await writeCheckpoint(this.store, this.path, snap.state);
    return snap.version;
  }

  /** Every version still in the log, newest first. */
  async history(): Promise<HistoryEntry[]> {
    const log = await listLog(this.store, this.path);
    if (log.commits.size === 0 && log.checkpoints.length === 0) throw notATable(this.store, this.path);
    const versions = [...log.commits.keys()].sort((a, b) => b - a);
    const entries = await mapLimit(versions, 16, async (v) => {
      const info = log.commits.get(v)!;
      let bytes: Uint8Array;
      try {
        bytes = await this.store.get(info.path);
      } catch (e) {
        // deleted by a log cleanup since the listing: no longer history
        if (isLakestreamError(e, 'NOT_FOUND')) return undefined;
        throw e;
      }
      const actions = parseCommit(bytes, `${this.where}: ${info.path}`);
      const ci = actions.find((a) => 'commitInfo' in a) as
        | { commitInfo: Record<string, unknown> }
        | undefined;
      const c = ci?.commitInfo ?? {};
      const entry: HistoryEntry = {
        version: v,
        timestamp: typeof c.timestamp === 'number' ? c.timestamp : info.modificationTime,
        operation: typeof c.operation === 'string' ? c.operation : 'UNKNOWN',
      };
      if (c.operationParameters && typeof c.operationParameters === 'object')
        entry.operationParameters = c.operationParameters;
      return entry;
    });
    return entries.filter((e) => e !== undefined);
  }

  optimize(opts: CompactionOptions = {}): Promise<CommitResult> {
    return optimizeTable(this, opts);
  }

  vacuum(opts: { retentionHours?: number; dryRun?: boolean } = {}): Promise<string[]> {
    return vacuumTable(this, opts);
  }

  /** A DuckDB view over exactly the snapshot's files (partition columns included). */
  async createView(conn: DuckDBConnection, viewName: string, version?: number): Promise<void> {
    await createSnapshotView(conn, this.store, await this.snapshot(version), viewName);
  }

  /** The schema of the latest version. */
  async schema(): Promise<Field[]> {
    return (await this.snapshot()).schema;
  }
}

/** The result of a write whose transaction (appId, version) the table has already applied, if so. */
function alreadyApplied(snap: Snapshot, opts: WriteOptions): CommitResult | undefined {
  if (!opts.txn) return undefined;
  const have = snap.txnVersions.get(opts.txn.appId);
  if (have !== undefined && have >= opts.txn.version)
    return { status: 'skipped', reason: 'txn-already-applied', version: snap.version };
  return undefined;
}
