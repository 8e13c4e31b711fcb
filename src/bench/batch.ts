// Benchmark of the batch view (not a test): `lakestream batch` on DuckDB and on Spark side by side, over
// the 500 London households (their daily file as bronze: one reading per household and day) and over a
// generated bronze of N meters × 3 years of daily readings (--meters, default 100,000: about 110 M rows,
// the size of that many meters' gold daily table). Per lake and engine: the time of each step of the run
// (meters list, hourly, daily, monthly, mark, diff) and in total, and Spark's time over DuckDB's.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runMetersBatch } from '../batch/run.ts';
import { METER_TABLES } from '../domain/meters/tables.ts';
import { openEngine } from '../engine/index.ts';
import { LakestreamError } from '../errors.ts';
import { copyToDir, Lake, uploadDataFiles, withDuck } from '../lake/index.ts';
import { type Enrichment, loadEnrichment } from '../workloads/meters/enrich.ts';
import { benchSpark } from './engines.ts';

const LONDON = resolve(import.meta.dirname, '../../../shared/data/meters/london');
const BRONZE = METER_TABLES.bronze;

/** Writes `select` (the bronze columns) as the lake's bronze table in one commit. */
async function writeBronze(url: string, select: string): Promise<number> {
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

/** The bronze columns around a reading's meter, instant, value and local day. */
const bronzeColumns = (meter: string, ts: string, value: string, day: string) =>
  `${meter} AS meter_id, 'electricity' AS kind, ${ts} AS ts, ${value} AS value, 'kWh' AS unit,
   'interval' AS type, CAST(0 AS BIGINT) AS seq, CAST(NULL AS VARCHAR) AS tz, CAST(NULL AS VARCHAR) AS src,
   'bench' AS topic, 0 AS partition, CAST(0 AS BIGINT) AS "offset", now() AS ingested_at, ${day} AS day`;

function londonSelect(): string {
  const file = join(LONDON, 'daily_500_households.csv.gz').replaceAll("'", "''");
  return `SELECT ${bronzeColumns('LCLid', `CAST(day AS TIMESTAMPTZ)`, 'CAST(energy_kwh AS DOUBLE)', 'CAST(day AS VARCHAR)')}
          FROM read_csv('${file}', header = true, columns = {'LCLid': 'VARCHAR', 'day': 'DATE', 'energy_kwh': 'DOUBLE', 'n_halfhours': 'INTEGER'})
          WHERE energy_kwh IS NOT NULL`;
}

/** N meters × 2011–2013, one reading a day, values from a hash (the same on every run). */
function generatedSelect(meters: number): string {
  return `SELECT ${bronzeColumns(
    `'GEN' || lpad(CAST(m AS VARCHAR), 6, '0')`,
    `CAST(d AS TIMESTAMPTZ)`,
    `(hash(m, d) % 20000) / 1000.0`,
    `strftime(d, '%Y-%m-%d')`,
  )}
          FROM range(${meters}) AS t(m), range(DATE '2011-01-01', DATE '2014-01-01', INTERVAL 1 DAY) AS s(d)`;
}

async function timeEngine(url: string, engineName: string, enrichment: Enrichment) {
  const engine = await openEngine(engineName, url);
  const lake = await Lake.open(url);
  try {
    const started = performance.now();
    const r = await runMetersBatch({ lake, engine, enrichment, diff: false });
    const ms = (x: number) => Math.round(x);
    return {
      engine: engine.name,
      total_ms: ms(performance.now() - started),
      steps_ms: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, ms(v)])),
      rows: r.rows,
    };
  } finally {
    await engine.close();
    await lake.close();
  }
}

export async function runBatchBench(opts: {
  short?: boolean;
  json?: boolean;
  /** meters of the generated lake (whole, ≥ 2: the CLI checks) */
  meters?: number;
}): Promise<object> {
  const log = opts.json ? () => {} : (s: string) => process.stderr.write(`${s}\n`);
  const meters = opts.meters ?? (opts.short ? 1000 : 100_000);
  const spark = await benchSpark(log);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-batch-'));
  try {
    const lakes: [string, () => string, Enrichment][] = [
      [
        'london-500',
        londonSelect,
        loadEnrichment({
          householdsFile: join(LONDON, 'households.csv'),
          holidaysFile: join(LONDON, 'uk_bank_holidays.csv'),
        }),
      ],
      [`generated-${meters}x3y`, () => generatedSelect(meters), loadEnrichment({})],
    ];
    const results = [];
    for (const [name, select, enrichment] of lakes) {
      const url = `file:${join(dir, name)}`;
      log(`building ${name}'s bronze`);
      const started = performance.now();
      const rows = await writeBronze(url, select());
      log(
        `  ${rows.toLocaleString('en-US')} readings in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      log(`${name}: batch on duckdb`);
      const duck = await timeEngine(url, 'duckdb', enrichment);
      log(`  ${duck.total_ms} ms`);
      log(`${name}: batch on ${spark}`);
      const sp = await timeEngine(url, spark, enrichment);
      log(`  ${sp.total_ms} ms`);
      results.push({
        lake: name,
        bronze_rows: rows,
        duckdb: duck,
        spark: sp,
        ratio_spark_over_duckdb: Number((sp.total_ms / duck.total_ms).toFixed(2)),
      });
    }
    return {
      scenario: 'batch',
      spark,
      note: 'steps: meters = list of meters, hourly/daily/monthly = compute and replace that table, mark, publish (no diff: the bench lakes have no stream tables)',
      results,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
