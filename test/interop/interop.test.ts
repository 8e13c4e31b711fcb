// Interop both ways with the reference implementation (delta-rs, the Python `deltalake` package):
// it reads the tables lakestream writes, and lakestream reads the tables it writes. No mocks.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lake } from '../../src/lake/index.ts';
import { READINGS, readings, tempDir } from '../lake/helpers.ts';

const SCRIPT = fileURLToPath(new URL('./delta_rs.py', import.meta.url));

export function deltaRs(...args: string[]): Record<string, unknown> {
  const r = spawnSync('python3', [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`delta_rs.py ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe('delta-rs reads what lakestream writes:', () => {
  test('schema, row count, partition values, txn, an earlier version, the table after optimize, checkpoints', async () => {
    const dir = await tempDir();
    const lake = await Lake.open(`file:${dir}`);
    const t = lake.table('meters/bronze/readings');
    await t.create({
      ...READINGS,
      schema: [
        ...READINGS.schema,
        { name: 'price', type: 'decimal(10,4)' },
        { name: 'on', type: 'date' },
        { name: 'ok', type: 'boolean' },
      ],
    });
    const rows = (from: number) =>
      readings(30, from).map((r, i) => ({ ...r, price: (i * 1.25).toFixed(4), on: r.day, ok: i % 2 === 0 }));
    for (let i = 0; i < 12; i++)
      await t.write(rows(i * 30), { txn: { appId: 'g/meters.readings/3', version: 100 + i } });
    const path = join(dir, 'meters/bronze/readings');
    const seen = deltaRs('read', path, '--txn', 'g/meters.readings/3');
    assert.equal(seen.version, 12);
    assert.equal(seen.num_rows, 360);
    assert.equal(seen.txn, 111);
    assert.deepEqual(seen.partition_columns, ['day']);
    assert.deepEqual((seen.partition_values as Record<string, string[]>).day, [
      '2013-01-01',
      '2013-01-02',
      '2013-01-03',
      '2013-01-04',
      '2013-01-05',
      '2013-01-06',
      '2013-01-07',
      '2013-01-08',
    ]);
    assert.deepEqual(
      (seen.schema as { name: string; type: string; nullable: boolean }[]).map((f) => [
        f.name,
        f.type,
        f.nullable,
      ]),
      [
        ['meter_id', 'PrimitiveType("string")', false],
        ['ts', 'PrimitiveType("timestamp")', false],
        ['value', 'PrimitiveType("double")', true],
        ['seq', 'PrimitiveType("long")', true],
        ['day', 'PrimitiveType("string")', false],
        ['price', 'PrimitiveType("decimal(10,4)")', true],
        ['on', 'PrimitiveType("date")', true],
        ['ok', 'PrimitiveType("boolean")', true],
      ],
    );
    assert.equal(deltaRs('read', path, '--version', '3').num_rows, 90);
    // delta-rs's rows are lakestream's rows
    const dump = join(dir, 'seen.parquet');
    deltaRs('read', path, '--dump', dump);
    const diff = await lake.query(
      `SELECT count(*) AS n FROM (SELECT meter_id, ts, value, seq, day, price, "on", ok FROM meters_bronze_readings
        EXCEPT ALL SELECT meter_id, ts, value, seq, day, price, "on", ok FROM read_parquet('${dump}'))`,
    );
    assert.equal(diff.rows[0].n, 0);
    // delta-rs reads lakestream's checkpoint alone: a copy without the commits it covers
    const copy = join(dir, 'copy');
    await cp(path, copy, { recursive: true });
    for (let v = 0; v <= 10; v++) await rm(join(copy, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    const fromCheckpoint = deltaRs('read', copy, '--txn', 'g/meters.readings/3');
    assert.equal(fromCheckpoint.num_rows, 360);
    assert.equal(fromCheckpoint.version, 12);
    assert.equal(fromCheckpoint.txn, 111);
    // after optimize
    const before = seen.num_files as number;
    assert.equal((await t.optimize()).status, 'committed');
    const after = deltaRs('read', path);
    assert.equal(after.num_rows, 360);
    assert.ok(
      (after.num_files as number) < before,
      `${after.num_files} files after optimize, ${before} before`,
    );
    await lake.close();
  });
});

describe('lakestream reads what delta-rs writes:', () => {
  test('a partitioned table, a table with removes, a table with a checkpoint', async () => {
    const dir = await tempDir();
    const expected = deltaRs('write', dir) as Record<
      string,
      { version: number; num_rows: number; sum_seq: number; files: number }
    >;
    // Prove the checkpoint is used: drop the commits it covers (in a copy).
    await cp(join(dir, 'checkpointed'), join(dir, 'checkpoint_only'), { recursive: true });
    for (let v = 0; v <= 11; v++)
      await rm(join(dir, 'checkpoint_only/_delta_log', `${String(v).padStart(20, '0')}.json`));
    expected.checkpoint_only = expected.checkpointed;
    const lake = await Lake.open(`file:${dir}`);
    assert.deepEqual(await lake.listTables(), [
      'checkpoint_only',
      'checkpointed',
      'partitioned',
      'with_removes',
    ]);
    for (const [name, want] of Object.entries(expected)) {
      const snap = await lake.table(name).snapshot();
      assert.equal(snap.version, want.version, name);
      assert.equal(snap.files.length, want.files, name);
      const r = await lake.query(`SELECT count(*) AS n, sum(seq) AS s FROM ${name}`);
      assert.deepEqual(r.rows[0], { n: want.num_rows, s: want.sum_seq }, name);
    }
    const parts = await lake.query('SELECT day, count(*) AS n FROM partitioned GROUP BY day ORDER BY day');
    assert.deepEqual(parts.rows, [
      { day: '2013-01-01', n: 10 },
      { day: '2013-01-02', n: 10 },
      { day: '2013-01-03', n: 10 },
    ]);
    // lakestream can append to a delta-rs table, and delta-rs reads the result
    await lake.table('partitioned').write([{ meter_id: 'M9', value: 1, seq: 1000n, day: '2013-01-09' }]);
    assert.equal(deltaRs('read', join(dir, 'partitioned')).num_rows, 31);
    await lake.close();
  });
});
