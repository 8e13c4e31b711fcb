// The lake commands as a user runs them: import a real CSV, list, show, query, history, optimize, vacuum.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const UCI_DAILY = fileURLToPath(
  new URL('../../../shared/data/meters/uci/household_power_daily.csv.gz', import.meta.url),
);

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('lake import, ls, show, sql, history, optimize and vacuum work on a real CSV', async () => {
  const lake = `file:${await tempDir()}`;
  const imp = cli('lake', 'import', UCI_DAILY, 'uci/daily', '--lake', lake);
  assert.equal(imp.code, 0, imp.err);
  assert.match(imp.out, /uci\/daily: committed version 1, 1,442 rows/);
  assert.match(imp.out, /datetime date, Global_active_power double/);
  assert.match(imp.err, /imported .*household_power_daily\.csv\.gz: 1,442 rows/);
  // a second import appends
  assert.equal(cli('lake', 'import', UCI_DAILY, 'uci/daily', '--lake', lake).code, 0);

  const ls = cli('lake', 'ls', '--lake', lake);
  assert.match(ls.out, /uci\/daily\s+2\s+2\s+2,884/);

  const show = cli('lake', 'show', 'uci/daily', '--version', '1', '--limit', '2', '--lake', lake);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /table uci\/daily at version 1/);
  assert.match(show.out, /1,442 rows/);
  assert.match(show.out, /2006-12-16/);

  const sql = cli(
    'sql',
    'SELECT count(*) AS n, min(datetime) AS first FROM uci_daily',
    '--format',
    'csv',
    '--lake',
    lake,
  );
  assert.equal(sql.code, 0, sql.err);
  assert.equal(sql.out.trim(), 'n,first\n2884,2006-12-16');

  assert.match(cli('lake', 'history', 'uci/daily', '--lake', lake).out, /^2\s+.*WRITE/m);
  const opt = cli('lake', 'optimize', 'uci/daily', '--lake', lake);
  assert.match(opt.out, /2 files -> 1 files at version 3/);
  const vac = cli('lake', 'vacuum', 'uci/daily', '--retention-hours', '0', '--lake', lake);
  assert.match(vac.out, /would delete \(dry run; add --delete\) 2 files/);
  // deleting files younger than a week could pull them from under a running writer: --force says nothing runs
  const unforced = cli('lake', 'vacuum', 'uci/daily', '--retention-hours', '0', '--delete', '--lake', lake);
  assert.equal(unforced.code, 2);
  assert.match(unforced.err, /--retention-hours 0 with --delete could remove files .* add --force/);
  assert.match(
    cli('lake', 'vacuum', 'uci/daily', '--retention-hours', '0', '--delete', '--force', '--lake', lake).out,
    /deleted 2 files/,
  );
  assert.equal(
    cli('sql', 'SELECT count(*) AS n FROM uci_daily', '--format', 'csv', '--lake', lake).out.trim(),
    'n\n2884',
  );
});

test('clear errors: a path that is not a table, a write statement, a missing file, a bad flag', async () => {
  const lake = `file:${await tempDir()}`;
  const notTable = cli('lake', 'show', 'no/such', '--lake', lake);
  assert.equal(notTable.code, 1);
  assert.match(notTable.err, /no\/such is not a Delta table/);
  const write = cli('sql', 'CREATE TABLE x AS SELECT 1', '--lake', lake);
  assert.equal(write.code, 2);
  assert.match(write.err, /only read-only queries/);
  const missing = cli('lake', 'import', '/no/such.csv', 't', '--lake', lake);
  assert.match(missing.err, /no such file: \/no\/such\.csv/);
  const flag = cli('lake', 'show', 't', '--version', 'x', '--lake', lake);
  assert.equal(flag.code, 2);
  assert.match(flag.err, /--version must be a whole number/);
});
