// Maintenance: optimize compacts without changing rows; vacuum deletes only what no version needs;
// a crash between writing data files and committing leaves the table unchanged.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { writeDataFiles } from '../../src/lake/parquet.ts';
import { count, READINGS, readings, tempDir } from './helpers.ts';

test('optimize compacts each partition into one file with dataChange=false and the same rows', async () => {
  const dir = await tempDir();
  const lake = await Lake.open(`file:${dir}`);
  const t = lake.table('t');
  await t.create(READINGS);
  for (let i = 0; i < 6; i++) await t.write(readings(20, i * 20));
  const before = await lake.query('SELECT round(sum(value), 6) AS s, count(*) AS n FROM t');
  assert.ok((await t.snapshot()).files.length > 6);
  const res = await t.optimize();
  assert.equal(res.status, 'committed');
  const snap = await t.snapshot();
  assert.equal(snap.files.length, 3);
  assert.ok(snap.files.every((f) => f.dataChange === false));
  assert.deepEqual(await lake.query('SELECT round(sum(value), 6) AS s, count(*) AS n FROM t'), before);
  assert.equal((await t.history())[0].operation, 'OPTIMIZE');
  // a second optimize has nothing to do
  assert.deepEqual(await t.optimize(), { status: 'committed', version: snap.version });
  await lake.close();
});

test('vacuum is a dry run by default and then deletes only unreferenced files past the retention', async () => {
  const dir = await tempDir();
  const lake = await Lake.open(`file:${dir}`);
  const t = lake.table('t');
  await t.create(READINGS);
  await t.write(readings(10));
  await t.write(readings(10, 10), { removeWhere: () => true }); // replaces the first file
  const removed = (await t.snapshot(1)).files.map((f) => `t/${decodeURIComponent(f.path)}`);
  assert.deepEqual(await t.vacuum(), [], 'recently removed files are kept for the retention');
  const dry = await t.vacuum({ retentionHours: 0 });
  assert.deepEqual(dry, removed);
  assert.equal((await readdir(join(dir, 't/day=2013-01-01'))).length, 2, 'dry run deletes nothing');
  assert.deepEqual(await t.vacuum({ retentionHours: 0, dryRun: false }), removed);
  assert.equal((await readdir(join(dir, 't/day=2013-01-01'))).length, 1);
  assert.equal(await count(lake, 't'), 10);
  await lake.close();
});

test('a crash between writing Parquet files and committing leaves the table readable and unchanged; vacuum removes the orphans', async () => {
  const dir = await tempDir();
  const lake = await Lake.open(`file:${dir}`);
  const t = lake.table('t');
  await t.create(READINGS);
  await t.write(readings(10));
  const snap = await t.snapshot();
  // The "crash": data files written, commit never made.
  const orphans = await writeDataFiles({
    store: lake.store,
    table: 't',
    schema: snap.schema,
    partitionColumns: ['day'],
    rows: readings(50, 100),
  });
  assert.equal(orphans.length, 2);
  const reader = await Lake.open(`file:${dir}`);
  assert.equal((await reader.table('t').snapshot()).version, 1);
  assert.equal(await count(reader, 't'), 10);
  const gone = await reader.table('t').vacuum({ retentionHours: 0, dryRun: false });
  assert.deepEqual(gone.sort(), orphans.map((o) => `t/${decodeURIComponent(o.path)}`).sort());
  assert.equal(await count(reader, 't'), 10);
  await lake.close();
  await reader.close();
});
