// Checkpoints (PROTOCOL "Checkpoints"): the replayed state at a version in Parquet, so readers need not
// replay every commit. Reads classic, multi-part and v2 (JSON or Parquet, with sidecars); writes
// classic single-file checkpoints and `_last_checkpoint`.

import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';
import { joinPath } from '../storage/index.ts';
import { type Action, checkpointFileName, parseCommit } from './actions.ts';
import { withDuck } from './duck.ts';
import type { CheckpointRef } from './log/listing.ts';
import { logDir } from './log/listing.ts';
import type { LogState } from './log/replay.ts';
import { quoteString } from './schema.ts';

const ACTION_COLUMNS = ['protocol', 'metaData', 'txn', 'add', 'remove', 'sidecar', 'checkpointMetadata'];

/** The actions of a checkpoint, in no particular order (a checkpoint holds reconciled state). */
export async function readCheckpoint(
  store: ObjectStore,
  table: string,
  cp: CheckpointRef,
): Promise<Action[]> {
  const where = `table ${table}: checkpoint ${cp.paths[0]}`;
  let actions: Action[];
  if (cp.paths[0].endsWith('.json')) {
    actions = parseCommit(await store.get(cp.paths[0]), where);
  } else {
    actions = await readParquetActions(store, cp.paths, where);
  }
  // v2 checkpoints may keep their file actions in sidecar files under _delta_log/_sidecars/.
  const sidecars = actions
    .filter((a) => 'sidecar' in a)
    .map((a) => (a as { sidecar: { path: string } }).sidecar.path);
  if (sidecars.length > 0) {
    const paths = sidecars.map((p) =>
      p.includes('/') ? joinPath(logDir(table), p) : joinPath(logDir(table), '_sidecars', p),
    );
    actions = actions
      .filter((a) => !('sidecar' in a))
      .concat(await readParquetActions(store, paths, `table ${table}: sidecars`));
  }
  return actions;
}

async function readParquetActions(store: ObjectStore, paths: string[], where: string): Promise<Action[]> {
  let locals: string[];
  try {
    locals = await Promise.all(paths.map((p) => store.localPath(p)));
  } catch (e) {
    throw new LakestreamError('CORRUPT_TABLE', `${where}: cannot read the checkpoint file`, { cause: e });
  }
  const list = `[${locals.map(quoteString).join(', ')}]`;
  return withDuck(async (conn) => {
    try {
      // One pass: every action column the file has, as JSON (absent ones are simply not matched).
      const wanted = ACTION_COLUMNS.map(quoteString).join(', ');
      const reader = await conn.runAndReadAll(
        `SELECT to_json(COLUMNS(c -> c IN (${wanted}))) FROM read_parquet(${list}, union_by_name = true)`,
      );
      const present = reader.columnNames();
      const rows = reader.getRows();
      const out: Action[] = [];
      for (const row of rows) {
        for (let i = 0; i < present.length; i++) {
          const v = row[i];
          if (v === null || v === undefined) continue;
          const obj = JSON.parse(String(v)) as Record<string, unknown>;
          // A struct whose every field is null is how Parquet says "no action here".
          if (Object.values(obj).every((x) => x === null)) continue;
          for (const k of Object.keys(obj)) if (obj[k] === null) delete obj[k];
          out.push({ [present[i]]: obj } as Action);
        }
      }
      return out;
    } catch (e) {
      if (e instanceof LakestreamError) throw e;
      throw new LakestreamError(
        'CORRUPT_TABLE',
        `${where}: cannot read the checkpoint (${(e as Error).message})`,
        { cause: e },
      );
    }
  });
}

const DV =
  'STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, "offset" INTEGER, sizeInBytes INTEGER, cardinality BIGINT)';
const STRUCTS = {
  txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)',
  add: `STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR), deletionVector ${DV})`,
  remove: `STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, deletionVector ${DV})`,
  metaData:
    'STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
  protocol:
    'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
};

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** Retention of tombstones (`delta.deletedFileRetentionDuration`, default 1 week) in ms. */
export function tombstoneRetentionMs(state: LogState): number {
  const v = state.metadata?.configuration?.['delta.deletedFileRetentionDuration'];
  const m = v && /^interval\s+(\d+)\s+(second|minute|hour|day|week)s?$/i.exec(v.trim());
  if (!m) return WEEK_MS;
  const unit = { second: 1e3, minute: 6e4, hour: 3.6e6, day: 8.64e7, week: WEEK_MS }[
    m[2].toLowerCase() as 'day'
  ];
  return Number(m[1]) * unit;
}

/**
 * Writes `<version>.checkpoint.parquet` for `state` and then `_last_checkpoint`. Overwriting is safe:
 * any two checkpoints of one version hold the same state.
 */
export async function writeCheckpoint(store: ObjectStore, table: string, state: LogState): Promise<void> {
  const now = Date.now();
  const retention = tombstoneRetentionMs(state);
  const lines: string[] = [];
  lines.push(JSON.stringify({ protocol: state.protocol }));
  lines.push(JSON.stringify({ metaData: state.metadata }));
  for (const t of state.txns.values()) lines.push(JSON.stringify({ txn: t }));
  let numAdds = 0;
  for (const a of state.files.values()) {
    lines.push(JSON.stringify({ add: a }));
    numAdds++;
  }
  for (const r of state.tombstones.values())
    if ((r.deletionTimestamp ?? 0) > now - retention) lines.push(JSON.stringify({ remove: r }));
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-ckpt-'));
  try {
    const src = join(dir, 'actions.json');
    const out = join(dir, `${randomUUID()}.parquet`);
    await writeFile(src, `${lines.join('\n')}\n`);
    const columns = Object.entries(STRUCTS)
      .map(([k, v]) => `${k}: ${quoteString(v)}`)
      .join(', ');
    await withDuck(async (conn) => {
      await conn.run(
        `COPY (SELECT txn, "add", "remove", metaData, protocol FROM read_json(${quoteString(src)}, format = 'newline_delimited', columns = {${columns}}))
         TO ${quoteString(out)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    });
    const bytes = new Uint8Array(await readFile(out));
    await store.put(joinPath(logDir(table), checkpointFileName(state.version)), bytes);
    const last = {
      version: state.version,
      size: lines.length,
      sizeInBytes: bytes.byteLength,
      numOfAddFiles: numAdds,
    };
    await store.put(
      joinPath(logDir(table), '_last_checkpoint'),
      new TextEncoder().encode(JSON.stringify(last)),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
