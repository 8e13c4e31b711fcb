// The Explore guard on DuckDB's own parse trees: one SELECT over the lake's views, nothing else.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { HttpError } from '../http.ts';
import { checkTree, type ParsedTree } from './guard.ts';

const VIEWS = new Set(['meters_gold_daily', 'meters_gold_monthly']);

describe('the Explore guard', () => {
  let conn: DuckDBConnection;
  before(async () => {
    conn = await (await DuckDBInstance.create(':memory:')).connect();
  });
  after(() => conn.closeSync());

  const check = async (sql: string) => {
    const r = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [sql]);
    checkTree(JSON.parse(String(r.getRowsJson()[0][0])) as ParsedTree, VIEWS);
  };
  const refuses = async (sql: string, message: RegExp) =>
    assert.rejects(
      check(sql),
      (e) => e instanceof HttpError && e.status === 400 && message.test(e.message),
      sql,
    );

  it('lets through selects, joins, subqueries and CTEs over the views', async () => {
    await check('SELECT * FROM meters_gold_daily');
    await check(
      `WITH m AS (SELECT meter_id, sum(value) AS v FROM meters_gold_monthly GROUP BY 1)
       SELECT d.day, m.v FROM meters_gold_daily d JOIN m USING (meter_id)
       WHERE d.value > (SELECT avg(value) FROM MeTeRs_GoLd_DaIlY) ORDER BY 1 LIMIT 5`,
    );
    await check('SELECT 1 + 1 AS two');
  });

  it('refuses every statement that is not a SELECT', async () => {
    for (const sql of [
      'INSERT INTO meters_gold_daily VALUES (1)',
      "COPY meters_gold_daily TO 'x.csv'",
      "ATTACH 'x.db'",
      'SET threads = 1',
      'CREATE VIEW v AS SELECT 1',
      'DROP VIEW meters_gold_daily',
    ])
      await refuses(sql, /read-only SELECT/);
    await refuses('SELECT 1; SELECT 2', /exactly one/);
  });

  it('refuses table functions anywhere, files by name, other schemas and unknown tables', async () => {
    await refuses("SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\) is not allowed/);
    await refuses(
      "WITH x AS (SELECT * FROM read_text('/etc/hosts')) SELECT * FROM x",
      /read_text\(\) is not allowed/,
    );
    await refuses(
      "SELECT * FROM meters_gold_daily WHERE day IN (SELECT file FROM glob('/*'))",
      /glob\(\) is not allowed/,
    );
    await refuses("SELECT * FROM '/etc/passwd'", /unknown table "\/etc\/passwd"/);
    await refuses('SELECT * FROM information_schema.tables', /unknown table "information_schema.tables"/);
    await refuses('SELECT * FROM other_table', /unknown table "other_table"/);
    await refuses("SELECT getenv('HOME')", /getenv\(\) is not allowed/);
  });
});
