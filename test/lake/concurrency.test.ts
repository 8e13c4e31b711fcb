// Two processes appending to one table: every commit lands at its own version and no row is lost.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lake } from '../../src/lake/index.ts';
import { READINGS, tempDir } from './helpers.ts';

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [fileURLToPath(new URL('./append-worker.ts', import.meta.url)), ...args],
      {
        stdio: ['ignore', 'inherit', 'pipe'],
      },
    );
    let err = '';
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}: ${err}`))));
  });
}

test('two processes appending 50 commits each end with 100 commits and every row', async () => {
  const dir = await tempDir();
  const url = `file:${dir}`;
  const lake = await Lake.open(url);
  await lake.table('shared').create(READINGS);
  await Promise.all([run([url, 'shared', '1', '50']), run([url, 'shared', '2', '50'])]);
  const t = lake.table('shared');
  const snap = await t.snapshot();
  assert.equal(snap.version, 100);
  const h = await t.history();
  assert.equal(h.filter((e) => e.operation === 'WRITE').length, 100);
  const r = await lake.query(
    'SELECT meter_id, count(*) AS n, count(DISTINCT seq) AS d FROM shared GROUP BY 1 ORDER BY 1',
  );
  assert.deepEqual(r.rows, [
    { meter_id: 'M1', n: 500, d: 500 },
    { meter_id: 'M2', n: 500, d: 500 },
  ]);
  await lake.close();
});
