// The generated lakes `bench train` and `bench batch` run on: N meters × 3 years, written by DuckDB as
// Parquet (one COPY per month) and committed to Delta through the project's lake code (uploadDataFiles,
// one commit per table) — seconds per million rows, where generating row objects in Node took minutes.
// Each is cached under bench/lakes/<kind>-<meters>m-<months>mo-v<N>/ by its parameters: a run reuses a
// lake an earlier run kept (--keep) and leaves it; a lake the run generated itself is removed at its end
// unless --keep (benchmarks leave nothing behind, issue 19).

import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { METER_TABLES } from '../domain/meters/tables.ts';
import { copyToDir, type Field, Lake, uploadDataFiles, withDuck } from '../lake/index.ts';
import { addMonths } from '../models/consumption/calendar.ts';
import { ROOT } from './processes.ts';

/** Where generated lakes are cached (LAKESTREAM_BENCH_LAKES, else bench/lakes in the project). */
export function benchLakesDir(): string {
  return process.env.LAKESTREAM_BENCH_LAKES ?? join(ROOT, 'bench/lakes');
}

/** Bump when what a generator writes changes: an older cached lake is then not reused. */
const FORMAT = 1;
const FIRST_MONTH = '2011-01';

export interface GeneratedLake {
  /** file: URL of the lake */
  url: string;
  dir: string;
  /** rows of the generated table (gold daily, or bronze) */
  rows: number;
  /** seconds generating it (0 when reused) */
  seconds: number;
  /** reused from an earlier run's cache */
  cached: boolean;
  /** removes the lake unless it was reused or --keep (then says where it stays) */
  release: (keep: boolean | undefined, log: (s: string) => void) => Promise<void>;
}

/** England's bank holidays of 2011–2013 that the generated silver flags for every third meter. */
// biome-ignore format: a calendar reads best as rows
const UK_HOLIDAYS = [
  '2011-01-03', '2011-04-22', '2011-04-25', '2011-04-29', '2011-05-02', '2011-05-30', '2011-08-29',
  '2011-12-26', '2011-12-27', '2012-01-02', '2012-04-06', '2012-04-09', '2012-05-07', '2012-06-04',
  '2012-06-05', '2012-08-27', '2012-12-25', '2012-12-26', '2013-01-01', '2013-03-29', '2013-04-01',
  '2013-05-06', '2013-05-27', '2013-08-26', '2013-12-25', '2013-12-26',
];

const meterId = (i: string) => `'GEN' || lpad(CAST(${i} AS VARCHAR), 6, '0')`;
/** A uniform number in [0, 1) from a hash of the arguments: the same on every run. */
const uniform = (...args: string[]) => `((hash(${args.join(', ')}) % 1000000) / 1e6)`;

/**
 * Gold daily of one month for meters 0 … n−1, as generateTrainLake (train-lake.ts) shapes it: a
 * log-uniform level per meter, a seasonal factor, weekends and holidays, ~0.3 % missing and ~0.3 %
 * incomplete days, 20 % ToU, a meter at zero, meters ending in 5 starting in month 15 and in 7 leaving
 * four months before the end.
 */
function goldDailySelect(meters: number, month: string, mi: number, months: number): string {
  const holidays = UK_HOLIDAYS.map((d) => `'${d}'`).join(', ');
  const season = `(1 + 0.3 * cos(${((Number(month.slice(5, 7)) - 1) / 12) * 2 * Math.PI}))`;
  return `WITH m AS (
      SELECT i, ${meterId('i')} AS meter_id,
             exp(${uniform('i', "'level'")} * 2 - 0.5) AS level,
             0.8 + ${uniform('i', "'weekend'")} * 0.5 AS weekend,
             CASE WHEN ${uniform('i', "'tariff'")} < 0.2 THEN 'ToU' ELSE 'Std' END AS tariff,
             i % 3 = 0 AS has_holidays
      FROM range(${meters}) AS t(i)
      WHERE NOT ((i % 10 = 5 AND ${mi} < 14) OR (i % 10 = 7 AND ${mi} > ${months - 5}))),
    d AS (
      SELECT CAST(d AS DATE) AS d, strftime(d, '%Y-%m-%d') AS day, dayofweek(d) AS wd
      FROM range(DATE '${month}-01', DATE '${addMonths(month, 1)}-01', INTERVAL 1 DAY) AS s(d)),
    r AS (
      SELECT m.*, d.day, d.wd, ${uniform('m.i', 'd.d')} AS u, ${uniform('m.i', 'd.d', "'value'")} AS v
      FROM m, d)
    SELECT meter_id, 'electricity' AS kind, day,
           CASE WHEN i = 1 THEN 0e0
                ELSE round(level * ${season}
                           * CASE WHEN wd IN (0, 6) OR (has_holidays AND day IN (${holidays})) THEN weekend ELSE 1 END
                           * (0.6 + v * 0.8), 3) END AS value,
           'kWh' AS unit, CAST(CASE WHEN u > 0.006 THEN 48 ELSE 40 END AS INTEGER) AS n_readings,
           CAST(48 AS INTEGER) AS expected_readings, u > 0.006 AS complete, true AS closed, tariff,
           CAST(NULL AS VARCHAR) AS acorn_group, '${month}' AS month
    FROM r WHERE u >= 0.003`;
}

/** Silver hours flagging the holidays of every third meter: what training reads of silver. */
function silverHolidaysSelect(meters: number): string {
  const days = UK_HOLIDAYS.map((d) => `('${d}')`).join(', ');
  return `SELECT ${meterId('i')} AS meter_id, 'electricity' AS kind, CAST(h.day || ' 12:00:00+00' AS TIMESTAMPTZ) AS hour,
           0.5e0 AS value, 'kWh' AS unit, CAST(2 AS INTEGER) AS n_readings, h.day,
           CAST(12 AS INTEGER) AS local_hour, CAST(dayofweek(CAST(h.day AS DATE)) AS INTEGER) AS weekday,
           true AS is_holiday,
           CASE WHEN ${uniform('i', "'tariff'")} < 0.2 THEN 'ToU' ELSE 'Std' END AS tariff,
           CAST(NULL AS VARCHAR) AS acorn, CAST(NULL AS VARCHAR) AS acorn_group, false AS sample,
           substr(h.day, 1, 7) AS month
    FROM range(${meters}) AS t(i), (VALUES ${days}) AS h(day)
    WHERE i % 3 = 0 AND NOT (i % 10 = 5 AND h.day < '2012-03')`;
}

/** The bronze columns around a reading's meter, instant, value and local day (bench batch's bronze). */
export const bronzeColumns = (meter: string, ts: string, value: string, day: string) =>
  `${meter} AS meter_id, 'electricity' AS kind, ${ts} AS ts, ${value} AS value, 'kWh' AS unit,
   'interval' AS type, CAST(0 AS BIGINT) AS seq, CAST(NULL AS VARCHAR) AS tz, CAST(NULL AS VARCHAR) AS src,
   'bench' AS topic, 0 AS partition, CAST(0 AS BIGINT) AS "offset", TIMESTAMPTZ '2014-01-02 00:00:00+00' AS ingested_at, ${day} AS day`;

/** Bronze of one month: N meters, one reading a day, values from a hash. */
function bronzeSelect(meters: number, month: string): string {
  return `SELECT ${bronzeColumns(
    meterId('m'),
    'CAST(d AS TIMESTAMPTZ)',
    '(hash(m, d) % 20000) / 1000.0',
    "strftime(d, '%Y-%m-%d')",
  )}
    FROM range(${meters}) AS t(m), range(DATE '${month}-01', DATE '${addMonths(month, 1)}-01', INTERVAL 1 DAY) AS s(d)`;
}

/** Writes each select as Parquet through DuckDB, then commits all of them to the table in one commit. */
async function writeTable(
  lake: Lake,
  spec: { path: string; schema: readonly Field[]; partitionColumns: readonly string[] },
  selects: Iterable<[label: string, select: string]>,
  log: (s: string) => void,
): Promise<number> {
  const schema = spec.schema.map((c) => ({ ...c }));
  const partitionColumns = [...spec.partitionColumns];
  const table = lake.table(spec.path);
  await table.create({ schema, partitionColumns });
  const tmp = await mkdtemp(join(tmpdir(), 'lakestream-bench-gen-'));
  let rows = 0;
  try {
    const adds = [];
    for (const [label, select] of selects) {
      const dir = join(tmp, String(adds.length));
      const stats = await withDuck((conn) => copyToDir(conn, select, dir, partitionColumns, 'part-'));
      adds.push(...(await uploadDataFiles(lake.store, spec.path, schema, partitionColumns, stats, true)));
      const n = stats.reduce((a, s) => a + Number(s.count), 0);
      rows += n;
      if (label) log(`  ${label}: ${n.toLocaleString('en-US')} rows`);
    }
    const r = await table.commit(adds.map((add) => ({ add })));
    if (r.status === 'conflict') throw new Error(`${spec.path}: a concurrent commit (${r.reason})`);
    return rows;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function* months(n: number): Generator<[string, number]> {
  for (let mi = 0; mi < n; mi++) yield [addMonths(FIRST_MONTH, mi), mi];
}

/** The cached lake of `key`, or a new one written by `fill` (into a temporary folder, renamed when whole). */
async function cachedLake(
  key: string,
  fill: (url: string) => Promise<number>,
  log: (s: string) => void,
): Promise<GeneratedLake> {
  const dir = join(benchLakesDir(), key);
  const done = join(dir, 'GENERATED.json');
  if (existsSync(done)) {
    const { rows } = JSON.parse(await readFile(done, 'utf8')) as { rows: number };
    log(`  reusing ${dir} (kept by an earlier run)`);
    return {
      url: `file:${dir}`,
      dir,
      rows,
      seconds: 0,
      cached: true,
      release: async () => {},
    };
  }
  await mkdir(benchLakesDir(), { recursive: true });
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  const started = performance.now();
  try {
    const rows = await fill(`file:${partial}`);
    const seconds = (performance.now() - started) / 1000;
    await writeFile(
      join(partial, 'GENERATED.json'),
      `${JSON.stringify({ key, rows, seconds, at: new Date().toISOString() })}\n`,
    );
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
    log(`  ${rows.toLocaleString('en-US')} rows in ${seconds.toFixed(1)} s`);
    return {
      url: `file:${dir}`,
      dir,
      rows,
      seconds,
      cached: false,
      release: async (keep, say) => {
        if (keep) say(`kept (--keep) the generated lake ${dir}: a later run with the same size reuses it`);
        else await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
}

type GenOptions = { months?: number; log?: (s: string) => void };

/** A cached generated lake named `kind-<meters>m-<months>mo`, its tables written by `write` into an open lake. */
function generatedLake(
  kind: string,
  meters: number,
  opts: GenOptions,
  write: (lake: Lake, n: number, log: (s: string) => void) => Promise<number>,
): Promise<GeneratedLake> {
  const n = opts.months ?? 36;
  const log = opts.log ?? (() => {});
  return cachedLake(
    `${kind}-${meters}m-${n}mo-v${FORMAT}`,
    async (url) => {
      const lake = await Lake.open(url);
      try {
        return await write(lake, n, log);
      } finally {
        await lake.close();
      }
    },
    log,
  );
}

/** Gold daily (and silver's holiday rows) of `meters` meters × `months` months from 2011-01, cached. */
export function generatedGoldLake(meters: number, opts: GenOptions = {}): Promise<GeneratedLake> {
  return generatedLake('gold', meters, opts, async (lake, n, log) => {
    const rows = await writeTable(
      lake,
      METER_TABLES.daily,
      [...months(n)].map(([month, mi]) => [month, goldDailySelect(meters, month, mi, n)]),
      log,
    );
    await writeTable(lake, METER_TABLES.silver, [['', silverHolidaysSelect(meters)]], log);
    return rows;
  });
}

/** Bronze of `meters` meters × `months` months from 2011-01, one reading per meter and day, cached. */
export function generatedBronzeLake(meters: number, opts: GenOptions = {}): Promise<GeneratedLake> {
  return generatedLake('bronze', meters, opts, (lake, n, log) =>
    writeTable(
      lake,
      METER_TABLES.bronze,
      [...months(n)].map(([month]) => [month, bronzeSelect(meters, month)]),
      log,
    ),
  );
}

/**
 * A lake of its own for a run that writes (bench batch adds its batch tables): every file of `from`
 * hard-linked into a new temporary folder (Delta files are never rewritten in place, so the cache stays
 * as it was), removed by the returned function.
 */
export async function linkedCopy(from: string): Promise<{ url: string; remove: () => Promise<void> }> {
  const to = await mkdtemp(join(tmpdir(), 'lakestream-bench-run-'));
  for (const f of await readdir(from, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    const src = join(f.parentPath, f.name);
    const dst = join(to, relative(from, src));
    await mkdir(dirname(dst), { recursive: true });
    // another file system (LAKESTREAM_BENCH_LAKES elsewhere): a copy
    await link(src, dst).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EXDEV') return copyFile(src, dst);
      throw e;
    });
  }
  return { url: `file:${to}`, remove: () => rm(to, { recursive: true, force: true }) };
}
