// Maintenance: optimize compacts without changing rows; vacuum deletes only what no version needs;
// a crash between writing data files and committing leaves the table unchanged.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AddFile } from '../../src/lake/actions.ts';
import { withDuck } from '../../src/lake/duck.ts';
import { Lake } from '../../src/lake/index.ts';
import { type MaintainedTable, optimizeTable, targetFileSize } from '../../src/lake/maintenance.ts';
import { writeDataFiles } from '../../src/lake/parquet.ts';
import { removeFor } from '../../src/lake/transaction.ts';
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

/** Rows of `t` as the table stood at `version` (a reader that started before later commits). */
async function rowsAt(lake: Lake, path: string, version: number): Promise<unknown[]> {
  return withDuck(async (conn) => {
    await lake.table(path).createView(conn, 'v_at', version);
    const r = await conn.runAndReadAll(`SELECT CAST(seq AS INTEGER) AS seq, value FROM v_at ORDER BY seq`);
    return r.getRowObjectsJson();
  });
}

test('a compaction racing a stream commit: the append is kept, readers of the older version still read it, nothing is doubled', async () => {
  const lake = await Lake.open(`file:${await tempDir()}`);
  const t = lake.table('t');
  await t.create({ ...READINGS, partitionColumns: [] });
  for (let i = 0; i < 5; i++) await t.write(readings(10, i * 10));
  const old = await t.snapshot();
  assert.equal(old.files.length, 5);
  const oldRows = await rowsAt(lake, 't', old.version);
  // The stream commits between the compaction's read of the table and its commit.
  const racing: MaintainedTable = {
    path: t.path,
    store: t.store,
    snapshot: () => t.snapshot(),
    commit: async (actions, opts) => {
      await t.write(readings(10, 50));
      return t.commit(actions, opts);
    },
  };
  const res = await optimizeTable(racing, {});
  assert.equal(res.status, 'committed');
  const snap = await t.snapshot();
  assert.equal(snap.version, old.version + 2); // the append, then the compaction after it
  assert.equal(snap.files.length, 2); // the compacted file and the appended one
  assert.deepEqual(
    (await lake.query('SELECT count(*)::INTEGER AS n, count(DISTINCT seq)::INTEGER AS d FROM t')).rows,
    [{ n: 60, d: 60 }],
  );
  assert.deepEqual(await rowsAt(lake, 't', old.version), oldRows);
  assert.equal(oldRows.length, 50);
  await lake.close();
});

test('a compaction that loses to a commit removing one of its files commits nothing; the other commit stands', async () => {
  const lake = await Lake.open(`file:${await tempDir()}`);
  const t = lake.table('t');
  await t.create({ ...READINGS, partitionColumns: [] });
  for (let i = 0; i < 3; i++) await t.write(readings(10, i * 10));
  const racing: MaintainedTable = {
    path: t.path,
    store: t.store,
    snapshot: () => t.snapshot(),
    commit: async (actions, opts) => {
      // a keyed rewrite of the stream removes the first file (copy-on-write) first
      const [first] = (await t.snapshot()).files;
      await t.commit([removeFor(first)]);
      return t.commit(actions, opts);
    },
  };
  const res = await optimizeTable(racing, {});
  assert.equal(res.status, 'conflict');
  assert.deepEqual((await lake.query('SELECT count(*)::INTEGER AS n FROM t')).rows, [{ n: 20 }]);
  assert.equal((await t.history())[0].operation === 'OPTIMIZE', false);
  await lake.close();
});

test('the target file size comes from delta.targetFileSize; minFiles and eligible narrow what is compacted', async () => {
  assert.equal(targetFileSize(undefined), 128 * 1024 * 1024);
  assert.equal(targetFileSize({ 'delta.targetFileSize': '1048576' }), 1048576);
  assert.equal(targetFileSize({ 'delta.targetFileSize': '64mb' }), 64 * 1024 * 1024);
  assert.throws(() => targetFileSize({ 'delta.targetFileSize': 'big' }), /delta.targetFileSize must be/);
  const lake = await Lake.open(`file:${await tempDir()}`);
  const t = lake.table('t');
  await t.create({ ...READINGS, partitionColumns: [], configuration: { 'delta.targetFileSize': '1' } });
  for (let i = 0; i < 4; i++) await t.write(readings(10, i * 10));
  // every file is already past a 1-byte target: nothing to do
  const v = (await t.snapshot()).version;
  assert.deepEqual(await t.optimize(), { status: 'committed', version: v });
  // fewer eligible small files than minFiles: nothing to do
  const first2 = new Set((await t.snapshot()).files.slice(0, 2).map((f) => f.path));
  const eligible = (f: AddFile) => first2.has(f.path);
  assert.deepEqual(await t.optimize({ targetFileSize: 1 << 20, minFiles: 3, eligible }), {
    status: 'committed',
    version: v,
  });
  const r = await t.optimize({ targetFileSize: 1 << 20, minFiles: 2, eligible, prefix: 'w0-c-' });
  assert.equal(r.status, 'committed');
  const files = (await t.snapshot()).files;
  assert.equal(files.length, 3);
  assert.equal(files.filter((f) => f.path.startsWith('w0-c-')).length, 1);
  assert.deepEqual((await lake.query('SELECT count(*)::INTEGER AS n FROM t')).rows, [{ n: 40 }]);
  await lake.close();
});
