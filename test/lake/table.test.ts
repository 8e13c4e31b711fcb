// The Delta table as a user of the lake sees it: create, write, read back, time travel, txn, conflicts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLakestreamError } from '../../src/errors.ts';
import { Lake } from '../../src/lake/index.ts';
import { openStore } from '../../src/storage/index.ts';
import { holdNextCommit } from '../helpers/hold.ts';
import { count, freshLake, READINGS, readings } from './helpers.ts';

for (const kind of ['memory', 'file'] as const) {
  describe(`a Delta table on ${kind}:`, () => {
    test('rows written are the rows read back through SQL, with partition values', async () => {
      const lake = await freshLake(kind);
      const t = lake.table('meters/bronze/readings');
      await t.create(READINGS);
      const res = await t.write(readings(100));
      assert.deepEqual(res, { status: 'committed', version: 1 });
      const r = await lake.query(
        'SELECT day, count(*) AS n, min(ts) AS first, sum(seq) AS s FROM meters_bronze_readings GROUP BY day ORDER BY day',
      );
      assert.deepEqual(
        r.rows.map((x) => [x.day, x.n]),
        [
          ['2013-01-01', 48],
          ['2013-01-02', 48],
          ['2013-01-03', 4],
        ],
      );
      assert.deepEqual(r.rows[0].first, new Date('2013-01-01T00:00:00Z'));
      const snap = await t.snapshot();
      assert.equal(snap.files.length, 3);
      assert.equal(snap.numRecords, 100);
      assert.deepEqual(snap.files.map((f) => f.partitionValues.day).sort(), [
        '2013-01-01',
        '2013-01-02',
        '2013-01-03',
      ]);
      const stats = JSON.parse(snap.files.find((f) => f.partitionValues.day === '2013-01-03')!.stats!);
      assert.equal(stats.numRecords, 4);
      assert.equal(stats.minValues.ts, '2013-01-03T00:00:00.000Z');
      assert.equal(stats.nullCount.value, 0);
      assert.equal('day' in stats.minValues, false, 'stats leave out partition columns');
      await lake.close();
    });

    test('re-committing the same (appId, version) changes nothing', async () => {
      const lake = await freshLake(kind);
      const t = lake.table('t');
      await t.create(READINGS);
      assert.equal(
        (await t.write(readings(10), { txn: { appId: 'g/readings/0', version: 41 } })).status,
        'committed',
      );
      const again = await t.write(readings(10), { txn: { appId: 'g/readings/0', version: 41 } });
      assert.deepEqual(again, { status: 'skipped', reason: 'txn-already-applied', version: 1 });
      const older = await t.write(readings(10), { txn: { appId: 'g/readings/0', version: 12 } });
      assert.equal(older.status, 'skipped');
      assert.equal(await t.txnVersion('g/readings/0'), 41);
      assert.equal(await t.txnVersion('g/readings/1'), undefined);
      assert.equal(await count(lake, 't'), 10);
      // a fresh reader of the same store sees the recorded version too
      const other = await Lake.open(lake.url);
      assert.equal(await other.table('t').txnVersion('g/readings/0'), 41);
      await lake.close();
    });

    test('time travel reads an earlier version', async () => {
      const lake = await freshLake(kind);
      const t = lake.table('t');
      await t.create(READINGS);
      await t.write(readings(10));
      await t.write(readings(10, 10));
      await t.write([], { removeWhere: (f) => f.partitionValues.day === '2013-01-01' });
      assert.equal((await t.snapshot()).files.length, 0);
      assert.equal((await t.snapshot(1)).numRecords, 10);
      assert.equal((await t.snapshot(2)).numRecords, 20);
      assert.equal((await t.snapshot(0)).files.length, 0);
      await assert.rejects(
        t.snapshot(9),
        (e) => isLakestreamError(e, 'NOT_FOUND') && /no version 9/.test(e.message),
      );
      const h = await t.history();
      assert.deepEqual(
        h.map((x) => x.version),
        [3, 2, 1, 0],
      );
      await lake.close();
    });

    test('ensure accepts the same schema and refuses a different one, naming the table', async () => {
      const lake = await freshLake(kind);
      const t = lake.table('a/b');
      assert.equal(await t.exists(), false);
      await Promise.all([t.ensure(READINGS), lake.table('a/b').ensure(READINGS)]);
      await t.ensure(READINGS);
      await assert.rejects(
        t.ensure({ schema: [{ name: 'x', type: 'long' }] }),
        (e) =>
          isLakestreamError(e, 'CONFLICT') && /a\/b/.test(e.message) && /different schema/.test(e.message),
      );
      await lake.close();
    });

    test('a table created with rows holds them from version 0, once however many creators race', async () => {
      const lake = await freshLake(kind);
      let asked = 0;
      const initial = async () => {
        asked++;
        return readings(60);
      };
      // two creators at once, then one that finds the table: its rows are not asked for
      await Promise.all([
        lake.table('a/b').ensure(READINGS, initial),
        lake.table('a/b').ensure(READINGS, initial),
      ]);
      await lake.table('a/b').ensure(READINGS, initial);
      assert.ok(asked >= 1 && asked <= 2, `asked ${asked} times`);
      const t = lake.table('a/b');
      const h = await t.history();
      assert.deepEqual(
        h.map((x) => [x.version, x.operation]),
        [[0, 'CREATE TABLE AS SELECT']],
      );
      assert.equal(await count(lake, 'a/b'), 60);
      assert.equal((await t.snapshot(0)).numRecords, 60);
      await lake.close();
    });
  });
}

/** Files of the first day of `readings` (what the read-modify-write tests read or rewrite). */
const day1 = (f: { partitionValues: Record<string, string | null> }) =>
  f.partitionValues.day === '2013-01-01';

describe('commits under concurrency:', () => {
  test('concurrent blind appends all commit, each at its own version', async () => {
    const lake = await freshLake('file');
    await lake.table('t').create(READINGS);
    const writers = await Promise.all([1, 2, 3].map(() => Lake.open(lake.url)));
    const results = await Promise.all(
      writers.flatMap((w, k) => [0, 1, 2, 3].map((i) => w.table('t').write(readings(5, (k * 4 + i) * 5)))),
    );
    const versions = results.map((r) => (r.status === 'committed' ? r.version : -1)).sort((a, b) => a - b);
    assert.deepEqual(
      versions,
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.equal(await count(lake, 't'), 60);
    await lake.close();
  });

  test('removing a file another writer already removed is a conflict, and commits nothing', async () => {
    const lake = await freshLake('file');
    const t = lake.table('t');
    await t.create(READINGS);
    await t.write(readings(10));
    const [file] = (await t.snapshot()).files;
    const other = (await Lake.open(lake.url)).table('t');
    assert.equal((await other.write(readings(4), { removeWhere: () => true })).status, 'committed');
    const res = await t.commit([
      { remove: { path: file.path, dataChange: true, deletionTimestamp: Date.now() } },
    ]);
    assert.equal(res.status, 'conflict');
    assert.match(res.status === 'conflict' ? res.reason : '', /not a live file/);
    assert.equal((await t.snapshot()).version, 2);
    assert.equal(await count(lake, 't'), 4);
    await lake.close();
  });

  test('a rewrite removes the files appended before it committed, never leaving them half-seen', async () => {
    const lake = await freshLake('memory');
    const t = lake.table('t');
    await t.create(READINGS);
    await t.write(readings(2));
    const snap = await t.snapshot();
    // Someone else appends to 2013-01-01 after we read.
    await (await Lake.open(lake.url)).table('t').write(readings(2, 2));
    assert.equal(snap.version, 1);
    const res = await t.commit([], { removeWhere: (f) => f.partitionValues.day === '2013-01-01' });
    // our cached snapshot is refreshed first, so the rewrite sees and removes both files
    assert.equal(res.status, 'committed');
    assert.equal(await count(lake, 't'), 0);
    await lake.close();
  });

  test('a rewrite that lost its version checks every commit that landed since, not only the first', async () => {
    const lake = await freshLake('file');
    const t = lake.table('t');
    await t.create(READINGS);
    await t.write(readings(2));
    const held = holdNextCommit(await openStore(lake.url));
    const rewriter = new Lake(held.store).table('t');
    const rewrite = rewriter.commit([], { removeWhere: day1 });
    await held.reached;
    // Two commits land while the rewrite waits: one elsewhere, then one into what it rewrites.
    const other = (await Lake.open(lake.url)).table('t');
    await other.write(readings(1, 60));
    await other.write(readings(1, 5));
    held.release();
    const res = await rewrite;
    assert.equal(res.status, 'conflict');
    assert.match(res.status === 'conflict' ? res.reason : '', /version 3 added .* did not read/);
    assert.equal(await count(lake, 't'), 4);
    await lake.close();
  });

  test('a read-modify-write conflicts with a file added after its read where it read, not elsewhere', async () => {
    const lake = await freshLake('memory');
    const t = lake.table('t');
    await t.create(READINGS);
    await t.write(readings(2));
    const read = (await t.snapshot()).version;
    const other = (await Lake.open(lake.url)).table('t');
    // Another writer adds to a day this writer did not read: no conflict.
    await other.write(readings(2, 60));
    const ok = await t.write(readings(1, 2), { read: { version: read, where: day1 } });
    assert.equal(ok.status, 'committed');
    // ... then to the day it read, after its read: a conflict, and nothing of it committed.
    const read2 = (await t.snapshot()).version;
    await other.write(readings(1, 3));
    const res = await t.write(readings(1, 4), { read: { version: read2, where: day1 } });
    assert.equal(res.status, 'conflict');
    assert.match(res.status === 'conflict' ? res.reason : '', /version 4 added .* did not read/);
    assert.equal(await count(lake, 't'), 6);
    await lake.close();
  });
});

describe('txn actions given directly to commit:', () => {
  test('a commit whose every txn the table already records is skipped, even from a stale writer', async () => {
    const lake = await freshLake('file');
    const t = lake.table('t');
    await t.create(READINGS);
    const other = (await Lake.open(lake.url)).table('t');
    await other.snapshot();
    const txns = [
      { txn: { appId: 'g/readings/0', version: 7 } },
      { txn: { appId: 'g/readings/1', version: 3 } },
    ];
    assert.equal((await t.commit(txns)).status, 'committed');
    assert.deepEqual(await other.commit(txns, { operation: 'STREAMING UPDATE' }), {
      status: 'skipped',
      reason: 'txn-already-applied',
      version: 1,
    });
    assert.equal((await t.snapshot()).version, 1);
    await lake.close();
  });
});

describe('partition values through SQL:', () => {
  test('special characters and nulls in partition values read back exactly, and filters on them work', async () => {
    const lake = await freshLake('file');
    const t = lake.table('odd-parts');
    await t.create({
      schema: [
        { name: 'k', type: 'string' },
        { name: 'n', type: 'long' },
        { name: 'on', type: 'date' },
      ],
      partitionColumns: ['k', 'on'],
    });
    const keys = ['plain', 'a b/c:d=e%f', null, 'ünï'];
    await t.write(keys.flatMap((k, i) => [1, 2].map((n) => ({ k, n: i * 10 + n, on: `2013-01-0${n}` }))));
    const r = await lake.query(
      'SELECT k, "on", sum(n) AS s FROM odd_parts GROUP BY ALL ORDER BY k NULLS LAST, "on"',
    );
    assert.deepEqual(
      r.rows.map((x) => [x.k, x.on, x.s]),
      [
        ['a b/c:d=e%f', '2013-01-01', 11],
        ['a b/c:d=e%f', '2013-01-02', 12],
        ['plain', '2013-01-01', 1],
        ['plain', '2013-01-02', 2],
        ['ünï', '2013-01-01', 31],
        ['ünï', '2013-01-02', 32],
        [null, '2013-01-01', 21],
        [null, '2013-01-02', 22],
      ],
    );
    const f = await lake.query(
      `SELECT count(*) AS c FROM odd_parts WHERE "on" = DATE '2013-01-02' AND k IS NULL`,
    );
    assert.equal(f.rows[0].c, 1);
    await lake.close();
  });

  test('a filter on a plainly partitioned table reads only the matching partition', async () => {
    const lake = await freshLake('file');
    const t = lake.table('t');
    await t.create(READINGS);
    await t.write(readings(96));
    const r = await lake.query(`SELECT count(*) AS c, min(day) AS d FROM t WHERE day = '2013-01-02'`);
    assert.deepEqual(r.rows[0], { c: 48, d: '2013-01-02' });
    // the plan DuckDB makes prunes the other day's file before reading (EXPLAIN, not EXPLAIN ANALYZE:
    // the profile of the latter now and then comes back empty on a loaded machine)
    // (a column, not count(*): DuckDB may answer a count from the files' metadata with no scan at all)
    const plan = await lake.query(`EXPLAIN SELECT value FROM t WHERE day = '2013-01-02'`);
    const text = plan.rows.map((x) => Object.values(x).join(' ')).join('\n');
    assert.match(text, /Scanning Files: 1\/2/, text);
    await lake.close();
  });
});
