// The write path: rows reach Parquet through DuckDB data chunks (no JSON staging). Every Delta type
// keeps the Parquet type other engines expect (../shared/notes/delta-interop.md), values round-trip,
// and a value the schema cannot hold is refused naming the table, the row and the column.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLakestreamError } from '../../src/errors.ts';
import { decodeDataPath } from '../../src/lake/actions.ts';
import { withDuck } from '../../src/lake/duck.ts';
import { Lake, type TableSpec } from '../../src/lake/index.ts';
import { stagedTypes } from '../../src/lake/parquet.ts';
import type { Field } from '../../src/lake/schema.ts';
import { tempDir } from './helpers.ts';

const ALL: TableSpec = {
  schema: [
    { name: 's', type: 'string' },
    { name: 'l', type: 'long' },
    { name: 'i', type: 'integer' },
    { name: 'sh', type: 'short' },
    { name: 'b', type: 'byte' },
    { name: 'd', type: 'double' },
    { name: 'f', type: 'float' },
    { name: 'ok', type: 'boolean' },
    { name: 'dt', type: 'date' },
    { name: 'ts', type: 'timestamp' },
    { name: 'bin', type: 'binary' },
    { name: 'dec', type: 'decimal(10,2)' },
    { name: 'p', type: 'string', nullable: false },
  ],
  partitionColumns: ['p'],
};

const ROWS = [
  {
    s: 'a "quoted"\nline',
    l: 9007199254740993n, // past 2**53: must not go through a double
    i: -2147483648,
    sh: 32767,
    b: -128,
    d: 1.5,
    f: 0.25,
    ok: true,
    dt: '2013-01-02',
    ts: '2013-01-01T00:30:00.123456Z', // microseconds kept
    bin: new Uint8Array([0, 255, 10]),
    dec: '12.34',
    p: 'x',
  },
  {
    s: null,
    l: null,
    i: null,
    sh: null,
    b: null,
    d: null,
    f: null,
    ok: null,
    dt: null,
    ts: null,
    bin: null,
    dec: null,
    p: 'x',
  },
  {
    s: 'é',
    l: '-5',
    i: 7,
    sh: 0,
    b: 0,
    d: Number.NaN,
    f: 1,
    ok: false,
    dt: new Date(Date.UTC(2020, 1, 29)),
    ts: new Date(0),
    bin: 'hi',
    dec: 0.5,
    p: 'x',
  },
];

const TS = (utc: number) =>
  `TimestampType(isAdjustedToUTC=${utc}, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))`;
/** What the JSON-staged write path wrote before (checked equal when it was replaced). */
const PARQUET_TYPES = [
  ['s', 'BYTE_ARRAY', 'UTF8', null],
  ['l', 'INT64', 'INT_64', null],
  ['i', 'INT32', 'INT_32', null],
  ['sh', 'INT32', 'INT_16', null],
  ['b', 'INT32', 'INT_8', null],
  ['d', 'DOUBLE', null, null],
  ['f', 'FLOAT', null, null],
  ['ok', 'BOOLEAN', null, null],
  ['dt', 'INT32', 'DATE', null],
  ['ts', 'INT64', 'TIMESTAMP_MICROS', TS(1)],
  ['bin', 'BYTE_ARRAY', null, null],
  ['dec', 'INT64', 'DECIMAL', 'DecimalType(scale=2, precision=10)'],
];

/** Writes `rows` as table `name` of a new lake in one file: the lake, the file, and the file's Parquet column types. */
async function writeOneFile(name: string, rows: Record<string, unknown>[]) {
  const dir = await tempDir();
  const lake = await Lake.open(`file:${dir}`);
  const t = lake.table(name);
  await t.create(ALL);
  await t.write(rows);
  const [file] = (await t.snapshot()).files;
  const local = join(dir, name, decodeDataPath(file.path));
  const types = await withDuck(async (conn) =>
    (
      await conn.runAndReadAll(
        `SELECT name, type, converted_type, logical_type FROM parquet_schema('${local}') WHERE name <> 'duckdb_schema'`,
      )
    ).getRowsJson(),
  );
  return { lake, file, types };
}

test('every type is written with the Parquet type Delta readers expect, and values round-trip', async () => {
  const { lake, file, types } = await writeOneFile('all', ROWS);
  assert.deepEqual(types, PARQUET_TYPES); // the partition column lives in the path only

  const { rows: back } = await lake.query(
    `SELECT s, CAST(l AS VARCHAR) AS l, i, sh, b, CAST(d AS VARCHAR) AS d, f, ok, CAST(dt AS VARCHAR) AS dt,
            strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts, hex(bin) AS bin, CAST(dec AS VARCHAR) AS dec
       FROM "all" ORDER BY i NULLS LAST`,
  );
  assert.deepEqual(back, [
    {
      s: 'a "quoted"\nline',
      l: '9007199254740993',
      i: -2147483648,
      sh: 32767,
      b: -128,
      d: '1.5',
      f: 0.25,
      ok: true,
      dt: '2013-01-02',
      ts: '2013-01-01T00:30:00.123456Z',
      bin: '00FF0A',
      dec: '12.34',
    },
    {
      s: 'é',
      l: '-5',
      i: 7,
      sh: 0,
      b: 0,
      d: 'nan',
      f: 1,
      ok: false,
      dt: '2020-02-29',
      ts: '1970-01-01T00:00:00.000000Z',
      bin: '6869',
      dec: '0.50',
    },
    {
      s: null,
      l: null,
      i: null,
      sh: null,
      b: null,
      d: null,
      f: null,
      ok: null,
      dt: null,
      ts: null,
      bin: null,
      dec: null,
    },
  ]);
  const stats = JSON.parse(file.stats!);
  assert.equal(stats.numRecords, 3);
  assert.equal(stats.nullCount.s, 1);
  assert.equal(stats.minValues.i, -2147483648);
  assert.equal(stats.maxValues.i, 7);
  assert.equal(stats.minValues.ts, '1970-01-01T00:00:00.000Z');
  assert.equal(stats.maxValues.ts, '2013-01-01T00:30:00.124Z'); // rounded up: still bounds the micros
  await lake.close();
});

test('a column of nulls only is written with its own Parquet type, as any other', async () => {
  const nulls = Object.fromEntries(ALL.schema.map((f) => [f.name, f.name === 'p' ? 'x' : null]));
  const { lake, types } = await writeOneFile(
    'nulls',
    Array.from({ length: 10 }, () => ({ ...nulls })),
  );
  assert.deepEqual(types, PARQUET_TYPES);
  const { rows } = await lake.query('SELECT count(s) AS s, count(*) AS n FROM nulls');
  assert.deepEqual([Number(rows[0].s), Number(rows[0].n)], [0, 10]);
  await lake.close();
});

test('a bad value past the first chunk of rows names the table, the row and the column; nothing is committed', async () => {
  const lake = await Lake.open(`file:${await tempDir()}`);
  const t = lake.table('all');
  await t.create(ALL);
  const rows = Array.from({ length: 5000 }, (_, k) => ({ i: k, l: k, p: 'x' }));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ i: 2 ** 31 }, /table all: row 4321: column "i" \(integer\) cannot hold "2147483648"/],
    [{ b: 200 }, /table all: row 4321: column "b" \(byte\) cannot hold "200"/],
    [{ l: 2n ** 64n }, /table all: row 4321: column "l" \(long\) cannot hold "18446744073709551616"/],
    [{ l: 1.5 }, /table all: row 4321: column "l" \(long\) cannot hold "1.5": not a whole number/],
    [{ d: 'lots' }, /table all: row 4321: column "d" \(double\) cannot hold "lots": not a number/],
    [{ ts: 'yesterday' }, /table all: row 4321: column "ts" \(timestamp\) cannot hold "yesterday"/],
    [{ p: null }, /table all: row 4321: column "p" must not be null/],
  ];
  for (const [bad, want] of cases) {
    const input = rows.map((r, k) => (k === 4321 ? { ...r, ...bad } : r));
    await assert.rejects(t.write(input), (e) => isLakestreamError(e, 'BAD_INPUT') && want.test(e.message));
  }
  assert.equal((await t.snapshot()).version, 0);
  // and the same connection pool still writes good rows afterwards (no temp table left behind in the way)
  await t.write(rows);
  assert.deepEqual((await lake.query('SELECT count(*) AS n, sum(i) AS s FROM "all"')).rows, [
    { n: 5000, s: 12497500 },
  ]);
  await lake.close();
});

// Staging shortcuts (parquet.ts planColumns): strings with few distinct values go as codes into a
// list of them, longs and timestamps that are exact as doubles go as doubles. Each must give back
// exactly the values of the plain staging, across chunks of rows, nulls included.
const SHORT: TableSpec = {
  schema: [
    { name: 'k', type: 'integer', nullable: false },
    { name: 'few', type: 'string' },
    { name: 'many', type: 'string' },
    { name: 'l', type: 'long' },
    { name: 'ts', type: 'timestamp' },
    { name: 'p', type: 'string', nullable: false },
  ],
  partitionColumns: ['p'],
};
const FEW = ["it's", '', 'é', 'a\nb', null, 'z'];

async function roundTrip(rows: Record<string, unknown>[]) {
  const lake = await Lake.open(`file:${await tempDir()}`);
  const t = lake.table('short');
  await t.create(SHORT);
  await t.write(rows);
  const { rows: back } = await lake.query(
    `SELECT k, few, many, CAST(l AS VARCHAR) AS l, strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts, p FROM short ORDER BY k`,
  );
  await lake.close();
  return back;
}

const micros = (ms: number) => `${new Date(ms).toISOString().slice(0, -1)}000Z`;

test('repeated strings staged as codes and whole numbers staged as int64 come back exactly, nulls included', async () => {
  const n = 5000;
  const rows = Array.from({ length: n }, (_, k) => ({
    k,
    few: FEW[k % FEW.length],
    many: `m${k}`,
    l: k % 7 === 0 ? null : k % 2 ? Number.MAX_SAFE_INTEGER - k : -Number.MAX_SAFE_INTEGER + k,
    ts: k % 11 === 0 ? null : 1_356_998_400_000 + k * 1_800_000,
    p: k % 2 ? 'x' : 'y',
  }));
  assert.deepEqual(stagedTypes(rows, SHORT.schema as Field[]), [
    'INTEGER',
    'INTEGER', // few: six values
    'VARCHAR', // many: every value distinct
    'BIGINT', // safe integers, copied into the vector as int64
    'TIMESTAMP WITH TIME ZONE', // micros, copied as int64: no cast in the COPY
    'INTEGER', // p: two values
  ]);
  const back = await roundTrip(rows);
  assert.equal(back.length, n);
  for (let k = 0; k < n; k++)
    assert.deepEqual(back[k], {
      k,
      few: rows[k].few,
      many: `m${k}`,
      l: rows[k].l === null ? null : String(rows[k].l),
      ts: rows[k].ts === null ? null : micros(rows[k].ts as number),
      p: rows[k].p,
    });
});

test('a column the shortcuts cannot hold is staged as before: a long past 2**53 late in the rows, strings with a NUL or too many distinct values', async () => {
  const n = 10_000;
  const rows = Array.from({ length: n }, (_, k) => ({
    k,
    few: k % 3 ? 'a\u0000b' : 'c',
    many: `m${k % 5000}`, // repeated, but 5,000 distinct: more than a dictionary holds
    l: k === 4321 ? 2n ** 53n + 1n : k,
    ts: k === 4321 ? '2013-01-01T00:30:00.123456Z' : k,
    p: 'x',
  }));
  assert.deepEqual(stagedTypes(rows, SHORT.schema as Field[]), [
    'INTEGER',
    'VARCHAR',
    'VARCHAR',
    'BIGINT',
    'TIMESTAMP WITH TIME ZONE', // a string timestamp's micros are whole and exact
    'INTEGER',
  ]);
  const back = await roundTrip(rows);
  assert.equal(back.length, n);
  for (let k = 0; k < n; k++)
    assert.deepEqual(back[k], {
      k,
      few: rows[k].few,
      many: rows[k].many,
      l: String(rows[k].l),
      ts: k === 4321 ? '2013-01-01T00:30:00.123456Z' : micros(k),
      p: 'x',
    });
});
