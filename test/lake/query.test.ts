// Lake.query as the dashboard and the sql command use it: views per table, limits, read-only.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLakestreamError } from '../../src/errors.ts';
import { Lake } from '../../src/lake/index.ts';
import { freshLake, READINGS, readings } from './helpers.ts';

test('every table is a view named by its path, and a new commit shows in the next query', async () => {
  const lake = await freshLake('file');
  await lake.table('meters/gold/daily-x').create(READINGS);
  await lake.table('meters/gold/daily-x').write(readings(3));
  assert.deepEqual(await lake.listTables(), ['meters/gold/daily-x']);
  assert.equal((await lake.query('SELECT count(*) AS n FROM meters_gold_daily_x')).rows[0].n, 3);
  await lake.table('meters/gold/daily-x').write(readings(2, 3));
  assert.equal((await lake.query('SELECT count(*) AS n FROM meters_gold_daily_x')).rows[0].n, 5);
  await lake.close();
});

test('maxRows caps the rows returned, timeoutMs stops a long query, writes are refused', async () => {
  const lake = await freshLake('memory');
  const r = await lake.query('SELECT range AS i FROM range(100)', { maxRows: 5 });
  assert.deepEqual(
    r.rows.map((x) => x.i),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(r.columns, [{ name: 'i', type: 'BIGINT' }]);
  await assert.rejects(lake.query('SELECT count(*) FROM range(100000000000) a', { timeoutMs: 300 }), (e) =>
    isLakestreamError(e, 'TIMEOUT'),
  );
  // the lake still answers after an interrupted query
  assert.equal((await lake.query('SELECT 42 AS x')).rows[0].x, 42);
  await assert.rejects(
    lake.query("COPY (SELECT 1) TO '/tmp/x.csv'"),
    (e) => isLakestreamError(e, 'BAD_ARGUMENT') && /read-only/.test(e.message),
  );
  await assert.rejects(
    lake.query('SELECT 1; SELECT 2'),
    (e) => isLakestreamError(e, 'BAD_ARGUMENT') && /one SQL statement/.test(e.message),
  );
  await lake.close();
});

test('cache keeps a query’s rows as a table of the snapshot it read, refuses writes, and lives until close', async () => {
  const lake = await freshLake('file');
  const table = lake.table('meters/gold/daily-x');
  await table.create(READINGS);
  await table.write(readings(3));
  await lake.cache('cached_x', 'SELECT count(*) AS n FROM meters_gold_daily_x');
  await table.write(readings(2, 3));
  // the view shows the new commit; the cached rows are those of the snapshot the cache read
  const r = await lake.query(
    'SELECT (SELECT n FROM cached_x) AS cached, (SELECT count(*) FROM meters_gold_daily_x) AS now',
  );
  assert.deepEqual([r.rows[0].cached, r.rows[0].now], [3, 5]);
  // the lake's tables are still the lake's: a cache is not one of them
  assert.deepEqual(await lake.listTables(), ['meters/gold/daily-x']);
  await assert.rejects(
    lake.cache('x', "COPY (SELECT 1) TO '/tmp/x.csv'"),
    (e) => isLakestreamError(e, 'BAD_ARGUMENT') && /read-only/.test(e.message),
  );
  await assert.rejects(lake.cache('x; DROP TABLE y', 'SELECT 1'), (e) =>
    isLakestreamError(e, 'BAD_ARGUMENT'),
  );
  await lake.close();
  const again = await Lake.open(lake.url);
  await assert.rejects(again.query('SELECT n FROM cached_x'), (e) => isLakestreamError(e));
  await again.close();
});
