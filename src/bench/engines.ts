// Benchmark of the two query engines side by side (not a test): the dashboard's API requests and five
// analytic queries on DuckDB and on Spark (the local cluster's Spark Connect, or LAKESTREAM_ENGINE),
// over the 500 London households (gold daily from the real daily file, as `bench serve` builds it) and
// over a simulated lake of 10,000 meters × 1 year (--short: 1,000). Both lakes get an hourly silver for
// their last days (each day spread over its hours by a fixed profile) and quarantine rows for a small
// share of meter-days, so every query has its table. Per query: both times, their ratio, and whether the
// answers agree; plus Spark's cold start (a new session's first query).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_ID, METER_TABLES } from '../domain/meters/tables.ts';
import { openEngine, type QueryEngine } from '../engine/index.ts';
import { Lake, type Row } from '../lake/index.ts';
import { mulberry32 } from '../models/random.ts';
import { startServer } from '../serve/server.ts';
import { portOffsetFromEnv } from './processes.ts';
import { buildBenchLake, fleetDailyRow } from './serve.ts';

const NOT_FLEET = `meter_id <> '${FLEET_ID}'`;

/** The five analytic queries, in SQL both engines read. */
export const ANALYTIC_QUERIES: Record<string, string> = {
  top_meters_per_month: `SELECT month, meter_id, total FROM (
      SELECT month, meter_id, sum(value) AS total,
             row_number() OVER (PARTITION BY month ORDER BY sum(value) DESC, meter_id) AS r
      FROM meters_gold_daily WHERE ${NOT_FLEET} GROUP BY month, meter_id) t
    WHERE r <= 10 ORDER BY month, r`,
  fleet_daily_series: `SELECT day, sum(value) AS total, count(*) AS meters
    FROM meters_gold_daily WHERE ${NOT_FLEET} GROUP BY day ORDER BY day`,
  month_over_month: `WITH m AS (
      SELECT meter_id, month, sum(value) AS total FROM meters_gold_daily WHERE ${NOT_FLEET} GROUP BY meter_id, month),
    c AS (SELECT month, total / nullif(lag(total) OVER (PARTITION BY meter_id ORDER BY month), 0) - 1 AS change FROM m)
    SELECT month, avg(change) AS mean_change, count(change) AS meters FROM c GROUP BY month ORDER BY month`,
  quarantine_reasons_by_day: `SELECT day, reason, count(*) AS n
    FROM meters_quarantine_readings GROUP BY day, reason ORDER BY day, reason`,
  gold_join_silver: `SELECT g.day, count(*) AS meter_days, sum(abs(g.value - s.total)) AS difference
    FROM meters_gold_daily g JOIN (
      SELECT meter_id, day, sum(value) AS total FROM meters_silver_readings GROUP BY meter_id, day) s
    ON s.meter_id = g.meter_id AND s.day = g.day GROUP BY g.day ORDER BY g.day`,
};

/** A day's share per hour (sums to 1): night low, morning and evening peaks. */
const PROFILE = (() => {
  const w = Array.from(
    { length: 24 },
    (_, h) => 0.5 + Math.exp(-((h - 8) ** 2) / 4) + 1.5 * Math.exp(-((h - 19) ** 2) / 6),
  );
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
})();

const REASONS = ['malformed-json', 'missing-field', 'negative-interval', 'unknown-unit', 'future-timestamp'];

/** Silver hours for the last `days` days of gold daily, and quarantine rows for ~0.5 % of meter-days. */
async function addSilverAndQuarantine(url: string, days: number, log: (s: string) => void) {
  const lake = await Lake.open(url);
  try {
    const last = (await lake.query('SELECT max(day) AS d FROM meters_gold_daily')).rows[0].d as string;
    const from = new Date(Date.parse(`${last}T00:00:00Z`) - (days - 1) * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const gold = await lake.query(
      `SELECT meter_id, day, value, tariff, acorn_group FROM meters_gold_daily WHERE ${NOT_FLEET} AND day >= '${from}'`,
      { maxRows: 10_000_000 },
    );
    const silver = lake.table(METER_TABLES.silver.path);
    await silver.ensure({
      schema: METER_TABLES.silver.schema.map((c) => ({ ...c })),
      partitionColumns: [...METER_TABLES.silver.partitionColumns],
    });
    let rows: Row[] = [];
    let n = 0;
    for (const g of gold.rows) {
      const day = String(g.day);
      const t0 = Date.parse(`${day}T00:00:00Z`);
      for (let h = 0; h < 24; h++)
        rows.push({
          meter_id: g.meter_id,
          kind: 'electricity',
          hour: new Date(t0 + h * 3_600_000),
          value: Number(g.value) * PROFILE[h],
          unit: 'kWh',
          n_readings: 2,
          day,
          local_hour: h,
          weekday: new Date(t0).getUTCDay(),
          is_holiday: false,
          tariff: g.tariff ?? null,
          acorn: null,
          acorn_group: g.acorn_group ?? null,
          sample: false,
          month: day.slice(0, 7),
        });
      if (rows.length >= 500_000) {
        await silver.write(rows);
        n += rows.length;
        rows = [];
      }
    }
    if (rows.length > 0) await silver.write(rows);
    n += rows.length;
    const quarantine = lake.table(METER_TABLES.quarantine.path);
    await quarantine.ensure({
      schema: METER_TABLES.quarantine.schema.map((c) => ({ ...c })),
      partitionColumns: [...METER_TABLES.quarantine.partitionColumns],
    });
    const all = await lake.query(`SELECT meter_id, day FROM meters_gold_daily WHERE ${NOT_FLEET}`, {
      maxRows: 10_000_000,
    });
    const rand = mulberry32(7);
    const q: Row[] = [];
    for (const g of all.rows)
      if (rand() < 0.005) {
        const reason = REASONS[Math.floor(rand() * REASONS.length)];
        q.push({
          reason,
          detail: `bench: ${reason}`,
          meter_id: g.meter_id,
          raw: new TextEncoder().encode(`{"meter_id":"${g.meter_id}"}`),
          raw_text: `{"meter_id":"${g.meter_id}"}`,
          src: null,
          topic: 'meters.readings',
          partition: 0,
          offset: BigInt(q.length),
          quarantined_at: new Date(`${g.day}T12:00:00Z`),
          day: g.day,
        });
      }
    await quarantine.write(q);
    log(
      `  silver: ${n.toLocaleString('en-US')} hourly rows (${days} days); quarantine: ${q.length.toLocaleString('en-US')} rows`,
    );
  } finally {
    await lake.close();
  }
}

/** Gold daily for `meters` simulated meters over 2013 (a seasonal mean, a per-meter scale, day noise). */
async function buildSimulatedLake(url: string, meters: number, log: (s: string) => void) {
  const lake = await Lake.open(url);
  const t = METER_TABLES.daily;
  const table = lake.table(t.path);
  await table.ensure({
    schema: t.schema.map((c) => ({ ...c })),
    partitionColumns: [...t.partitionColumns],
  });
  const rand = mulberry32(42);
  const scale = Array.from({ length: meters }, () => 0.4 + 1.6 * rand());
  const tariffs = Array.from({ length: meters }, () => (rand() < 0.8 ? 'Std' : 'ToU'));
  let rows = 0;
  for (let m = 0; m < 12; m++) {
    const list: Row[] = [];
    const dim = new Date(Date.UTC(2013, m + 1, 0)).getUTCDate();
    for (let d = 1; d <= dim; d++) {
      const day = `2013-${String(m + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
      const season = 10 + 4 * Math.cos(((m + (d - 1) / dim) / 12) * 2 * Math.PI);
      let fleet = 0;
      for (let i = 0; i < meters; i++) {
        const value = Math.round(season * scale[i] * (0.7 + 0.6 * rand()) * 1000) / 1000;
        fleet += value;
        list.push({
          meter_id: `SIM${String(i).padStart(6, '0')}`,
          kind: 'electricity',
          day,
          value,
          unit: 'kWh',
          n_readings: 48,
          expected_readings: 48,
          complete: true,
          closed: true,
          tariff: tariffs[i],
          acorn_group: null,
          month: day.slice(0, 7),
        });
      }
      list.push(fleetDailyRow(day, fleet));
    }
    await table.write(list);
    rows += list.length;
  }
  log(
    `  gold daily: ${rows.toLocaleString('en-US')} rows, ${meters.toLocaleString('en-US')} meters, 12 commits`,
  );
  await lake.close();
}

async function withLake<T>(url: string, fn: (lake: Lake) => Promise<T>): Promise<T> {
  const lake = await Lake.open(url);
  try {
    return await fn(lake);
  } finally {
    await lake.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** Two answers agree: same rows, numbers within 1e-6 relative (the engines sum in different orders). */
function agree(a: Record<string, unknown>[], b: Record<string, unknown>[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((r, i) =>
    Object.keys(r).every((k) => {
      const x = r[k];
      const y = b[i][k];
      if (typeof x === 'number' && typeof y === 'number')
        return Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
      return x === y;
    }),
  );
}

async function timeQuery(engine: QueryEngine, sql: string, runs: number) {
  const ms: number[] = [];
  let rows: Record<string, unknown>[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    rows = (await engine.query(sql, { maxRows: 1_000_000 })).rows;
    ms.push(performance.now() - t0);
  }
  return { first: ms[0], warm: median(ms.slice(1)), rows };
}

async function timeApi(base: string, paths: string[], runs: number) {
  const out: Record<string, { first: number; warm: number; body: string }> = {};
  for (const p of paths) {
    const ms: number[] = [];
    let body = '';
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const res = await fetch(`${base}${p}`);
      body = await res.text();
      if (res.status !== 200) throw new Error(`${p}: ${res.status} ${body.slice(0, 300)}`);
      ms.push(performance.now() - t0);
    }
    out[p] = { first: ms[0], warm: median(ms.slice(1)), body };
  }
  return out;
}

const round = (x: number) => Math.round(x * 10) / 10;

async function benchLake(
  name: string,
  url: string,
  spark: string,
  runs: number,
  apiPaths: string[],
  log: (s: string) => void,
) {
  // Spark's cold start: a new session's first query over the lake (views created, Delta logs read)
  const t0 = performance.now();
  const cold = await openEngine(spark, url);
  await cold.query('SELECT count(*) AS n FROM meters_gold_daily');
  const coldStartMs = performance.now() - t0;
  await cold.close();
  log(`  ${name}: Spark cold start ${(coldStartMs / 1000).toFixed(1)} s`);
  const duck = await openEngine('duckdb', url);
  const sp = await openEngine(spark, url);
  const queries = [];
  try {
    for (const [q, sql] of Object.entries(ANALYTIC_QUERIES)) {
      const d = await timeQuery(duck, sql, runs);
      const s = await timeQuery(sp, sql, runs);
      const row = {
        query: q,
        rows: d.rows.length,
        duckdb_ms: round(d.warm),
        spark_ms: round(s.warm),
        spark_over_duckdb: round(s.warm / d.warm),
        duckdb_first_ms: round(d.first),
        spark_first_ms: round(s.first),
        same_answer: agree(d.rows, s.rows),
      };
      log(
        `  ${name} ${q}: duckdb ${row.duckdb_ms} ms, spark ${row.spark_ms} ms (×${row.spark_over_duckdb})${row.same_answer ? '' : ' ANSWERS DIFFER'}`,
      );
      queries.push(row);
    }
  } finally {
    await duck.close();
    await sp.close();
  }
  const api = [];
  const servers = { duckdb: 'duckdb', spark };
  const times: Record<string, Awaited<ReturnType<typeof timeApi>>> = {};
  for (const [k, engine] of Object.entries(servers)) {
    const server = await startServer({ port: 0, lake: url, engine, log: () => {} });
    try {
      times[k] = await timeApi(server.url, apiPaths, runs);
    } finally {
      await server.close();
    }
  }
  for (const p of apiPaths) {
    const d = times.duckdb[p];
    const s = times.spark[p];
    const row = {
      request: p,
      duckdb_ms: round(d.warm),
      spark_ms: round(s.warm),
      spark_over_duckdb: round(s.warm / d.warm),
      duckdb_first_ms: round(d.first),
      spark_first_ms: round(s.first),
      same_answer: sameJson(d.body, s.body),
    };
    log(
      `  ${name} GET ${p}: duckdb ${row.duckdb_ms} ms, spark ${row.spark_ms} ms (×${row.spark_over_duckdb})${row.same_answer ? '' : ' ANSWERS DIFFER'}`,
    );
    api.push(row);
  }
  return { lake: name, spark_cold_start_ms: round(coldStartMs), queries, api };
}

/** Two JSON bodies equal, numbers within 1e-6 relative. */
function sameJson(a: string, b: string): boolean {
  const eq = (x: unknown, y: unknown): boolean => {
    if (typeof x === 'number' && typeof y === 'number')
      return Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
    if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => eq(v, y[i]));
    if (x && y && typeof x === 'object' && typeof y === 'object') {
      const kx = Object.keys(x);
      return kx.length === Object.keys(y).length && kx.every((k) => eq((x as never)[k], (y as never)[k]));
    }
    return x === y;
  };
  return eq(JSON.parse(a), JSON.parse(b));
}

/**
 * The Spark a bench compares with: LAKESTREAM_ENGINE when it names one, else the local cluster's
 * (LAKESTREAM_CLUSTER_DIR's). `sparkMemoryMb`: the executor's memory when this starts the cluster (one
 * already up keeps its own: bench/memory.ts asks it first).
 */
export async function benchSpark(log: (s: string) => void, sparkMemoryMb?: number): Promise<string> {
  const spark = process.env.LAKESTREAM_ENGINE ?? '';
  if (spark.startsWith('spark')) return spark;
  // the local cluster's Spark (started when it is not running; a running one is only checked)
  const { clusterUp } = await import('../cluster/cluster.ts');
  const r = await clusterUp({
    dir: process.env.LAKESTREAM_CLUSTER_DIR,
    parts: ['spark'],
    portOffset: portOffsetFromEnv(),
    sparkMemoryMb,
    log: (l) => log(`[cluster] ${l}`),
  });
  return r.sparkConnectUrl.replace(/^sc:/, 'spark:');
}

export async function runEnginesBench(opts: { short?: boolean; json?: boolean } = {}): Promise<object> {
  const log = opts.json ? () => {} : (s: string) => process.stderr.write(`${s}\n`);
  const spark = await benchSpark(log);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-engines-'));
  const runs = opts.short ? 2 : 3;
  const meters = opts.short ? 1000 : 10_000;
  try {
    const results = [];
    const london = `file:${join(dir, 'london')}`;
    log('building the London lake (500 households, daily file)');
    await buildBenchLake(london, log);
    await addSilverAndQuarantine(london, opts.short ? 7 : 30, log);
    const firstMeter = await withLake(london, async (l) =>
      String(
        (await l.query(`SELECT min(meter_id) AS m FROM meters_gold_daily WHERE ${NOT_FLEET}`)).rows[0].m,
      ),
    );
    results.push(
      await benchLake(
        'london-500',
        london,
        spark,
        runs,
        [
          '/api/meters',
          '/api/groups',
          '/api/consumption?fleet',
          `/api/consumption?meter=${firstMeter}`,
          '/api/consumption?group=tariff:Std&granularity=month',
        ],
        log,
      ),
    );
    const sim = `file:${join(dir, 'simulated')}`;
    log(`building the simulated lake (${meters.toLocaleString('en-US')} meters × 2013)`);
    await buildSimulatedLake(sim, meters, log);
    await addSilverAndQuarantine(sim, 7, log);
    results.push(
      await benchLake(
        `simulated-${meters}`,
        sim,
        spark,
        runs,
        [
          '/api/meters?limit=10',
          '/api/consumption?fleet',
          '/api/consumption?meter=SIM000001',
          '/api/consumption?group=tariff:ToU&granularity=month',
          '/api/consumption?meter=SIM000001&granularity=hour&from=2013-12-25&to=2013-12-31',
        ],
        log,
      ),
    );
    const report = {
      scenario: 'engines',
      short: Boolean(opts.short),
      spark,
      runs_per_query: runs,
      note: 'ms = median of the runs after the first (the first is listed apart); ratio = spark / duckdb',
      results,
    };
    // like every scenario: with --json the report is all it prints (the CLI prints it otherwise)
    if (opts.json) console.log(JSON.stringify(report, null, 2));
    return report;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
