// Lake.query as the dashboard and the sql command use it: views per table, limits, read-only.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLakestreamError } from '../../src/errors.ts';
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
