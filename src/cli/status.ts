// `lakestream status`: lag per topic and group, rows per table, quarantine counts, last commits.

import {
  engineOption,
  engineSetting,
  lakeOption,
  lakeUrl,
  transportOption,
  transportUrl,
} from '../config/settings.ts';
import { METER_TABLES } from '../domain/meters/tables.ts';
import { TOPICS } from '../domain/topics.ts';
import { openEngine, parseEngine } from '../engine/index.ts';
import { describeError, LakestreamError } from '../errors.ts';
import { Lake, liveRecords } from '../lake/index.ts';
import { type RetrainRecord, readRetrain } from '../models/registry.ts';
import { STALE_MS } from '../serve/data/pipeline.ts';
import { readWorkerStatuses } from '../stream/worker-status.ts';
import { openTransport } from '../transport/index.ts';
import { defineCommand } from './command.ts';
import { formatCount } from './progress.ts';
import { missingLakeDir, missingTransportDir } from './read-only.ts';

export interface LakeStatus {
  topics: {
    topic: string;
    group: string;
    end: number;
    committed: number;
    lag: number;
    partitions: { partition: number; end: number; committed: number; lag: number }[];
  }[];
  tables: {
    table: string;
    version: number;
    files: number;
    rows: number | null;
    last_commit: string | null;
    operation: string | null;
  }[];
  quarantine: { reason: string; count: number }[];
  /** stream workers (reporting now) that commit nothing, and why: storage full, an outage */
  blocked?: { worker: string; reason: string; since: string }[];
  /** the forecast's last monthly retrain (models/consumption/RETRAIN.json), null when none ran */
  retrain?: RetrainRecord | null;
  /** the query engine (when asked for): whether it answers, and its version */
  engine?: EngineStatus;
}

export interface EngineStatus {
  engine: string;
  address: string;
  answers: boolean;
  version: string | null;
  ms: number | null;
  error: string | null;
}

/** Opens the engine over the lake and pings it (never throws: a silent engine is a status, not an error). */
export async function engineStatus(engine: string, lake: string): Promise<EngineStatus> {
  const spec = parseEngine(engine);
  const address = spec.name === 'duckdb' ? 'in process' : `spark://${spec.address}`;
  try {
    const e = await openEngine(engine, lake, { connectTimeoutMs: 5000 });
    try {
      const p = await e.ping({ signal: AbortSignal.timeout(10_000) });
      return {
        engine: spec.name,
        address,
        answers: true,
        version: p.version,
        ms: Math.round(p.ms),
        error: null,
      };
    } finally {
      await e.close();
    }
  } catch (err) {
    return { engine: spec.name, address, answers: false, version: null, ms: null, error: describeError(err) };
  }
}

const GROUPS: Record<string, string> = {
  [TOPICS.readings]: 'lakestream-meters',
  [TOPICS.traceEvents]: 'lakestream-cluster-trace',
};

export async function collectStatus(
  transportUrlValue: string,
  lakeUrlValue: string,
  groupFlag?: string,
): Promise<LakeStatus> {
  const status: LakeStatus = { topics: [], tables: [], quarantine: [] };
  // opening an embedded transport creates its folder: a read-only command must not
  const transport = missingTransportDir(transportUrlValue)
    ? undefined
    : await openTransport(transportUrlValue);
  if (transport)
    try {
      for (const t of await transport.listTopics()) {
        const group = groupFlag ?? GROUPS[t.name];
        const ends = await transport.endOffsets(t.name);
        const committed = group ? await transport.committedOffsets(group, t.name) : [];
        const partitions = ends.map((e) => {
          const c = committed.find((x) => x.partition === e.partition)?.offset ?? 0;
          return { partition: e.partition, end: e.offset, committed: c, lag: Math.max(0, e.offset - c) };
        });
        const sum = (k: 'end' | 'committed' | 'lag') => partitions.reduce((a, p) => a + p[k], 0);
        status.topics.push({
          topic: t.name,
          group: group ?? '-',
          end: sum('end'),
          committed: sum('committed'),
          lag: sum('lag'),
          partitions,
        });
      }
    } finally {
      await transport.close();
    }
  if (missingLakeDir(lakeUrlValue)) return status;
  const lake = await Lake.open(lakeUrlValue);
  try {
    for (const path of await lake.listTables()) {
      const table = lake.table(path);
      const snap = await table.snapshot();
      let rows: number | null = 0;
      for (const f of snap.files) {
        const n = liveRecords(f);
        if (n === undefined || rows === null) rows = null;
        else rows += n;
      }
      // history() is newest first
      const last = (await table.history())[0];
      status.tables.push({
        table: path,
        version: snap.version,
        files: snap.files.length,
        rows,
        last_commit: last ? new Date(last.timestamp).toISOString() : null,
        operation: last?.operation ?? null,
      });
    }
    if (status.tables.some((t) => t.table === METER_TABLES.quarantine.path)) {
      const q = await lake.query(
        'SELECT reason, count(*)::BIGINT AS n FROM meters_quarantine_readings GROUP BY reason ORDER BY n DESC, reason',
      );
      status.quarantine = q.rows.map((r) => ({ reason: String(r.reason), count: Number(r.n) }));
    }
    status.retrain = (await readRetrain(lake.store, 'consumption')) ?? null;
    status.blocked = (await readWorkerStatuses(lake.store))
      .filter((w) => w.blocked && Date.now() - Date.parse(w.updated_at) <= STALE_MS)
      .map((w) => ({ worker: w.worker, reason: w.blocked!.reason, since: w.blocked!.since }));
  } finally {
    await lake.close();
  }
  return status;
}

export default defineCommand({
  name: 'status',
  summary: 'lag per topic, rows per table, quarantine counts by reason, last commit',
  usage: 'status [--json] [--group ID] [--engine duckdb|spark[://HOST:PORT]] [--transport URL] [--lake URL]',
  description: `
Reads the transport and the lake, and creates neither: a folder that is not there is reported.
With --engine, also whether that query engine answers.

Examples:
  lakestream status
  lakestream status --json`,
  options: {
    json: { type: 'boolean', help: 'print one JSON object' },
    group: {
      type: 'string',
      value: 'ID',
      help: "consumer group whose lag to show (default: each workload's group)",
    },
    ...transportOption,
    ...lakeOption,
    ...engineOption,
  },
  async run({ values }) {
    const tUrl = transportUrl(values.transport);
    const lUrl = lakeUrl(values.lake);
    const noLog = missingTransportDir(tUrl);
    const noLake = missingLakeDir(lUrl);
    if (noLog && noLake)
      throw new LakestreamError(
        'NOT_FOUND',
        `no transport at ${noLog} and no lake at ${noLake} — check --transport and --lake, or run "lakestream demo" (or produce and stream) first`,
      );
    let s: LakeStatus;
    const engine = engineSetting(values.engine);
    parseEngine(engine); // a malformed --engine is a usage error, before any work
    try {
      s = await collectStatus(tUrl, lUrl, values.group);
      s.engine = await engineStatus(engine, lUrl);
    } catch (e) {
      console.error(`lakestream status: ${describeError(e)} — check --transport ${tUrl} and --lake ${lUrl}`);
      return 1;
    }
    if (values.json) {
      console.log(JSON.stringify(s, null, 2));
      return 0;
    }
    console.log('Topics (messages; lag = produced - committed by the group)');
    for (const t of s.topics)
      console.log(
        `  ${t.topic.padEnd(22)} group ${t.group.padEnd(26)} end ${formatCount(t.end).padStart(11)}  committed ${formatCount(t.committed).padStart(11)}  lag ${formatCount(t.lag).padStart(9)}`,
      );
    if (noLog) console.log(`  (no transport at ${noLog})`);
    else if (s.topics.length === 0) console.log('  (no topics yet)');
    console.log('\nTables');
    for (const t of s.tables)
      console.log(
        `  ${t.table.padEnd(34)} v${String(t.version).padEnd(6)} ${(t.rows === null ? '?' : formatCount(t.rows)).padStart(11)} rows  ${formatCount(t.files).padStart(6)} files  last ${t.last_commit ?? '-'} ${t.operation ?? ''}`,
      );
    if (noLake) console.log(`  (no lake at ${noLake})`);
    else if (s.tables.length === 0) console.log('  (no tables yet)');
    console.log('\nQuarantine by reason');
    for (const q of s.quarantine) console.log(`  ${q.reason.padEnd(24)} ${formatCount(q.count)}`);
    if (s.quarantine.length === 0) console.log('  (nothing quarantined)');
    for (const b of s.blocked ?? [])
      console.log(`\nStream worker ${b.worker} NOT COMMITTING since ${b.since}: ${b.reason}`);
    const r = s.retrain;
    if (r)
      console.log(
        `\nForecast retrain after ${r.month}: ${r.ok ? `registered v${r.version}` : `FAILED, previous model stays live: ${r.error}`} (${r.at})`,
      );
    const e = s.engine;
    if (e)
      console.log(
        `\nQuery engine\n  ${e.engine} (${e.address}): ${e.answers ? `answers — ${e.version}, ${e.ms} ms` : `does not answer — ${e.error}`}`,
      );
    return 0;
  },
});
