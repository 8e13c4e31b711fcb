// Benchmark of the batch view (not a test): `lakestream batch` on DuckDB and on Spark side by side, over
// the 500 London households (their daily file as bronze: one reading per household and day) and over
// generated bronze tables of N meters × 3 years of daily readings (a ladder of sizes up to 100,000
// meters: about 110 M rows, the size of that many meters' gold daily table; gen-lake.ts, cached by
// size). Per lake and engine: the time of each step of the run (meters list, hourly, daily, monthly,
// mark, publish) and in total, Spark's time over DuckDB's, and whether both engines wrote the same
// batch tables (row count and a hash of every row, per table). Each engine's run at one size is bounded
// (--minutes); an engine that ran out of time or failed (out of memory, unreachable) is recorded with
// why and not tried at the larger sizes (ladder.ts).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BATCH_TABLES, batchSchema, runMetersBatch } from '../batch/run.ts';
import { METER_TABLES } from '../domain/meters/tables.ts';
import { openEngine, type QueryEngine } from '../engine/index.ts';
import { copyToDir, Lake, uploadDataFiles, withDuck } from '../lake/index.ts';
import { type Enrichment, loadEnrichment } from '../workloads/meters/enrich.ts';
import { bronzeColumns, generatedBronzeLake, linkedCopy } from './gen-lake.ts';
import { runStopped } from './ladder.ts';
import { enginePids, prepareEngines, withPeakRss } from './memory.ts';
import { CONNECT_TIMEOUT_MS, DEFAULT_LADDER } from './train.ts';

const log = (s: string) => process.stderr.write(`${s}\n`);

const LONDON = resolve(import.meta.dirname, '../../../shared/data/meters/london');
const BRONZE = METER_TABLES.bronze;
const ms = (x: number) => Math.round(x);

/** The 500 London households' daily file as the lake's bronze, in one commit. */
async function writeLondonBronze(url: string): Promise<number> {
  const file = join(LONDON, 'daily_500_households.csv.gz').replaceAll("'", "''");
  const select = `SELECT ${bronzeColumns('LCLid', `CAST(day AS TIMESTAMPTZ)`, 'CAST(energy_kwh AS DOUBLE)', 'CAST(day AS VARCHAR)')}
          FROM read_csv('${file}', header = true, columns = {'LCLid': 'VARCHAR', 'day': 'DATE', 'energy_kwh': 'DOUBLE', 'n_halfhours': 'INTEGER'})
          WHERE energy_kwh IS NOT NULL`;
  const lake = await Lake.open(url);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-batch-'));
  try {
    const schema = BRONZE.schema.map((c) => ({ ...c }));
    const table = lake.table(BRONZE.path);
    await table.create({ schema, partitionColumns: ['day'] });
    const stats = await withDuck((conn) => copyToDir(conn, select, dir, ['day'], 'part-'));
    const adds = await uploadDataFiles(lake.store, BRONZE.path, schema, ['day'], stats, true);
    await table.commit(adds.map((add) => ({ add })));
    return stats.reduce((n, s) => n + Number(s.count), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await lake.close();
  }
}

/** Per batch table: its rows and the sum of a hash of each row (DuckDB reading what the engine wrote). */
export async function batchFingerprint(url: string): Promise<Record<string, { rows: number; hash: string }>> {
  const lake = await Lake.open(url);
  try {
    const out: Record<string, { rows: number; hash: string }> = {};
    for (const name of Object.keys(BATCH_TABLES) as (keyof typeof BATCH_TABLES)[]) {
      const cols = batchSchema(name)
        .map((c) => `"${c.name}"`)
        .join(', ');
      const view = BATCH_TABLES[name].path.replaceAll('/', '_');
      const r = (
        await lake.query(
          `SELECT count(*) AS n, CAST(sum(CAST(hash(${cols}) AS HUGEINT)) AS VARCHAR) AS h FROM ${view}`,
        )
      ).rows[0];
      out[name] = { rows: Number(r.n), hash: String(r.h) };
    }
    return out;
  } finally {
    await lake.close();
  }
}

/** A lake a run benches on: its bronze's rows, how it was generated, and what removes it. */
interface BenchLake {
  url: string;
  rows: number;
  generated?: object;
  done: () => Promise<void>;
}

interface BatchRun {
  engine: string;
  total_ms: number;
  timedOut?: boolean;
  /** the run failed (its error's first line): the engine is not tried at larger sizes */
  failed?: string;
  skipped?: string;
  steps_ms?: Record<string, number>;
  rows?: Record<string, number>;
  /** the largest RSS sampled during the run (once a second), MiB: this process (DuckDB's) and Spark's executor and driver */
  peak_rss_mib?: Record<string, number>;
}

async function timeEngine(
  url: string,
  run: { engine: string; rung: string; minutes: number },
  enrichment: Enrichment,
  skip: Map<string, string>,
): Promise<BatchRun> {
  const { engine: engineName, minutes } = run;
  const signal = AbortSignal.timeout(minutes * 60_000);
  const started = performance.now();
  let engine: QueryEngine | undefined;
  const lake = await Lake.open(url);
  try {
    engine = await openEngine(engineName, url, { connectTimeoutMs: CONNECT_TIMEOUT_MS });
    const r = await runMetersBatch({
      lake,
      engine,
      enrichment,
      diff: false,
      signal,
      onStep: (step, t) => process.stderr.write(`  ${step}: ${(t / 1000).toFixed(1)} s\n`),
    });
    return {
      engine: engineName,
      total_ms: ms(performance.now() - started),
      steps_ms: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, ms(v)])),
      rows: r.rows,
    };
  } catch (e) {
    const stopped = runStopped(e, signal, run, skip, log);
    return {
      engine: engineName,
      total_ms: stopped.timedOut ? minutes * 60_000 : ms(performance.now() - started),
      ...stopped,
    };
  } finally {
    await engine?.close().catch(() => {});
    await lake.close();
  }
}

export async function runBatchBench(opts: {
  short?: boolean;
  json?: boolean;
  keep?: boolean;
  /** duckdb, spark or spark://HOST:PORT, or several comma-separated (default: duckdb and spark) */
  engine?: string;
  /** meters of the generated lakes, one lake per size (default DEFAULT_LADDER; --short 1000) */
  sizes?: number[];
  /** the bound on one engine's run at one size, minutes (default 30) */
  minutes?: number;
  /** only the generated lakes, not the 500 London households (--generated-only) */
  generatedOnly?: boolean;
  /** MB for the two engines together, split between them (bench/memory.ts; default half of what is available) */
  memoryMb?: number;
}): Promise<object> {
  const { engines, memory, clusterDir, done } = await prepareEngines(opts.engine, opts.memoryMb, log);
  const pids = await enginePids(clusterDir);
  const sizes = opts.sizes ?? (opts.short ? [1000] : DEFAULT_LADDER);
  const minutes = opts.minutes ?? 30;
  const skip = new Map<string, string>();
  const results = [];
  const lakes: { name: string; enrichment: Enrichment; open: () => Promise<BenchLake> }[] = [];
  if (!opts.generatedOnly)
    lakes.push({
      name: 'london-500',
      enrichment: loadEnrichment({
        householdsFile: join(LONDON, 'households.csv'),
        holidaysFile: join(LONDON, 'uk_bank_holidays.csv'),
      }),
      open: async () => {
        const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-batch-london-'));
        const rows = await writeLondonBronze(`file:${dir}`);
        return { url: `file:${dir}`, rows, done: () => rm(dir, { recursive: true, force: true }) };
      },
    });
  for (const meters of sizes)
    lakes.push({
      name: `generated-${meters}x3y`,
      enrichment: loadEnrichment({}),
      open: async () => {
        const g = await generatedBronzeLake(meters, { log });
        // the batch tables go to a lake of the run's own: the cached bronze stays as generated
        const run = await linkedCopy(g.dir);
        return {
          url: run.url,
          rows: g.rows,
          generated: { seconds: Math.round(g.seconds * 100) / 100, cached: g.cached },
          done: async () => {
            await run.remove();
            await g.release(opts.keep, log);
          },
        };
      },
    });
  try {
    for (const l of lakes) {
      log(`${l.name}: bronze …`);
      const lake = await l.open();
      try {
        const runs: BatchRun[] = [];
        const prints: Record<string, Awaited<ReturnType<typeof batchFingerprint>>> = {};
        for (const e of engines) {
          const skipped = skip.get(e);
          if (skipped) {
            runs.push({ engine: e, total_ms: 0, skipped });
            continue;
          }
          log(`${l.name}: batch on ${e}`);
          const { value: r, peakMiB } = await withPeakRss(pids, () =>
            timeEngine(lake.url, { engine: e, rung: l.name, minutes }, l.enrichment, skip),
          );
          r.peak_rss_mib = peakMiB;
          log(`  peak RSS (MiB): ${JSON.stringify(peakMiB)}`);
          runs.push(r);
          if (!r.timedOut && !r.failed) {
            log(`  ${e}: ${r.total_ms} ms`);
            prints[e] = await batchFingerprint(lake.url);
          }
        }
        const out: Record<string, unknown> = {
          lake: l.name,
          bronze_rows: lake.rows,
          ...(lake.generated ? { generated: lake.generated } : {}),
          runs,
        };
        const duck = runs.find((r) => r.engine === 'duckdb');
        const spark = runs.find((r) => r.engine !== 'duckdb');
        if (duck && spark && prints[duck.engine] && prints[spark.engine]) {
          out.ratio_spark_over_duckdb = Number((spark.total_ms / duck.total_ms).toFixed(2));
          out.tables_equal = JSON.stringify(prints[duck.engine]) === JSON.stringify(prints[spark.engine]);
          out.tables = { [duck.engine]: prints[duck.engine], [spark.engine]: prints[spark.engine] };
        } else if (Object.keys(prints).length > 0) out.tables = prints;
        results.push(out);
      } finally {
        await lake.done();
      }
    }
  } finally {
    await done();
  }
  const report = {
    scenario: 'batch',
    engines,
    memory,
    minutesPerRun: minutes,
    note: 'peak_rss_mib = the largest RSS sampled once a second during the run (the bench process holds DuckDB). memory: the budget and what each engine had. steps: meters = list of meters, hourly/daily/monthly = compute and replace that table, mark, publish (no diff: the bench lakes have no stream tables); total = open the engine, run, close. tables: rows and a sum of row hashes per batch table, read by DuckDB after each engine wrote them',
    results,
  };
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  return report;
}
