// The training set's `cum` step as it was (a self-join of each meter-month's days, b.dom <= a.dom,
// grouped: O(days²) rows and a median buffer per group) and the row-for-row comparison of the training
// set with it against the one with window functions: test/models/sql-features-cum.test.ts on DuckDB,
// test/models/train-spark.cluster.test.ts on Spark.

import assert from 'node:assert/strict';
import type { QueryEngine } from '../../src/engine/index.ts';
import { FEATURE_NAMES } from '../../src/models/consumption/features.ts';
import { MAX_K } from '../../src/models/consumption/model.ts';
import { type TrainingSetSqlOptions, trainingSetCtes } from '../../src/models/consumption/sql-features.ts';

/** The `cum` CTE before the window functions, verbatim: the reference the new one is held to. */
export const SELF_JOIN_CUM = (maxK: number) => `cum AS (
  SELECT a.meter_id, a.month, a.dom AS k, sum(b.v) AS s, median(b.v) AS med, sum(b.we * b.v) AS we_sum,
         sum(b.we) AS we_n, sum(b.hol) AS hol_n,
         avg(CASE WHEN b.dom > a.dom - 3 THEN b.v END) AS last3,
         avg(CASE WHEN b.dom > a.dom - 7 THEN b.v END) AS last7
  FROM days a JOIN closed c ON c.meter_id = a.meter_id AND c.month = a.month AND a.dom < c.dim AND a.dom <= ${maxK}
  JOIN days b ON b.meter_id = a.meter_id AND b.month = a.month AND b.dom <= a.dom
  WHERE c.actual > 0
  GROUP BY a.meter_id, a.month, a.dom
),
`;

/** trainingSetCtes with its `cum` swapped for the self-join. */
export function selfJoinCtes(o: TrainingSetSqlOptions): string {
  const ctes = trainingSetCtes(o);
  const start = ctes.indexOf('\ncum AS (\n');
  const end = ctes.indexOf('\nbase AS (\n');
  assert.ok(start > 0 && end > start, 'the CTEs have a cum step before base');
  return `${ctes.slice(0, start + 1)}${SELF_JOIN_CUM(o.maxK)}${ctes.slice(end + 1)}`;
}

const D = FEATURE_NAMES.length;
/**
 * the examples' columns that no sum of doubles reaches: the days left, the median. Not `actual`: the
 * month's total is a sum DuckDB's parallel aggregation does not add in a fixed order (mm, unchanged here,
 * gave 245.35799999999998 and 245.358 for one meter-month in two runs).
 */
const EX_EXACT = ['rest', 'x4'];
const EX_SUMMED = [
  'actual',
  'observed',
  ...Array.from({ length: D }, (_, i) => [`x${i}`, `z${i}`])
    .flat()
    .filter((c) => !EX_EXACT.includes(c)),
  't',
];
const COLUMNS = [...EX_EXACT, ...EX_SUMMED];
/** cum's counts and median (no sum of doubles), and its sums of doubles */
const CUM_EXACT = ['we_n', 'hol_n', 'med'];
const CUM_SUMMED = ['s', 'we_sum', 'last3', 'last7'];
const CUM_COLUMNS = [...CUM_EXACT, ...CUM_SUMMED];
/** a sum of at most MAX_K (30) doubles in another order: a few units in the last place (2^-52 ≈ 2.2e-16) */
const CUM_TOLERANCE = 1e-14;
/** the features after division and subtraction: the tolerance engine-train.test.ts holds the SQL to prepare() with */
const EX_TOLERANCE = 1e-12;
/** each example's rates against its observed mean (x0), the scaled ones against z0, t against 1, observed against actual */
const exScale = (c: string) =>
  c === 'observed'
    ? 'actual'
    : c === 't'
      ? 'one'
      : c.startsWith('x')
        ? 'x0'
        : c.startsWith('z')
          ? 'z0'
          : undefined;

/** |a − b| relative to the larger of |b| and the row's scale for the column (absolute below 1e-12). */
const rel = (a: number, b: number, scale = 0) =>
  Math.abs(a - b) / Math.max(Math.abs(b), Math.abs(scale), 1e-12);

/**
 * Row-for-row equality: the same keys in the same order; `exact` columns identical (Object.is), the others
 * within `tolerance` (rel). The sums are of the same values in another order (the self-join's hash order,
 * the window's frame order), so they may differ in their last bits; the maxima are logged. A difference
 * of sums (t = (actual − observed)/actual near the month's end, x5 = cap − history) is relative to the
 * scale of its terms: `scaleOf`.
 */
function assertSameRows(
  what: string,
  old: Record<string, unknown>[],
  now: Record<string, unknown>[],
  exact: string[],
  summed: string[],
  tolerance: number,
  /** the column a column's difference is relative to when larger than its value (a difference of sums) */
  scaleOf: (c: string) => string | undefined = () => undefined,
) {
  assert.equal(now.length, old.length, `${what}: as many rows`);
  assert.ok(old.length > 0, `${what}: some rows`);
  const differs: string[] = [];
  const worst = new Map<string, number>();
  const bitsDiffer = new Map<string, number>();
  const num = (v: unknown) => (v === null ? null : Number(v));
  old.forEach((a, i) => {
    const b = now[i];
    const key = `${a.meter_id} ${a.month} ${a.k}`;
    assert.equal(`${b.meter_id} ${b.month} ${b.k}`, key, `${what}: row ${i}`);
    for (const c of exact)
      if (!Object.is(num(a[c]), num(b[c]))) differs.push(`${key} ${c}: self-join ${a[c]}, window ${b[c]}`);
    for (const c of summed) {
      const x = num(a[c]);
      const y = num(b[c]);
      if (x === null || y === null) {
        if (x !== y) differs.push(`${key} ${c}: self-join ${x}, window ${y}`);
        continue;
      }
      const scale = scaleOf(c);
      const r = rel(y, x, scale === undefined ? 0 : Number(a[scale]));
      if (!(r <= tolerance)) differs.push(`${key} ${c}: self-join ${x}, window ${y}`);
      if (x !== y) bitsDiffer.set(c, (bitsDiffer.get(c) ?? 0) + 1);
      worst.set(c, Math.max(worst.get(c) ?? 0, r));
    }
  });
  assert.deepEqual(differs.slice(0, 20), [], `${what}: ${differs.length} values differ`);
  const report = summed.map(
    (c) => `${c} ${bitsDiffer.get(c) ?? 0} rows, max ${(worst.get(c) ?? 0).toExponential(1)}`,
  );
  console.log(`${what}: ${old.length} rows; not bit-identical: ${report.join('; ')}`);
}

/**
 * Builds the training set with the self-join and with the windows on the engine, and holds them equal
 * row for row: cum's rows and the examples (exact and summed columns as above).
 */
export async function assertCumEqualsSelfJoin(
  engine: QueryEngine,
  o: Omit<TrainingSetSqlOptions, 'maxK' | 'engine'>,
): Promise<{ cumRows: Record<string, unknown>[] }> {
  const opts = { ...o, maxK: MAX_K, engine: engine.name };
  const read = async (ctes: string, sql: string) =>
    (await engine.query(`WITH ${ctes} ${sql}`, { maxRows: 1e7 })).rows;
  const cumSql = `SELECT meter_id, month, k, ${CUM_COLUMNS.join(', ')} FROM cum ORDER BY meter_id, month, k`;
  const exSql = `SELECT meter_id, month, k, 1e0 AS one, ${COLUMNS.join(', ')} FROM examples ORDER BY meter_id, month, k`;
  const cumOld = await read(selfJoinCtes(opts), cumSql);
  const cumNow = await read(trainingSetCtes(opts), cumSql);
  assertSameRows(`${engine.name} cum`, cumOld, cumNow, CUM_EXACT, CUM_SUMMED, CUM_TOLERANCE);
  const exOld = await read(selfJoinCtes(opts), exSql);
  const exNow = await read(trainingSetCtes(opts), exSql);
  assertSameRows(`${engine.name} examples`, exOld, exNow, EX_EXACT, EX_SUMMED, EX_TOLERANCE, exScale);
  return { cumRows: cumNow };
}
