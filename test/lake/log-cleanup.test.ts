// Log cleanup (issue 16 item 7): vacuum and optimize delete `_delta_log` files past the table's log
// retention once a checkpoint covers them; time travel within the retention still works, and readers
// racing a cleanup never see a broken log.

import assert from 'node:assert/strict';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLakestreamError } from '../../src/errors.ts';
import { Lake } from '../../src/lake/index.ts';
import { cleanupLog, DEFAULT_LOG_RETENTION_MS, parseRetention } from '../../src/lake/log/cleanup.ts';
import { DeltaTable } from '../../src/lake/table.ts';
import { READINGS, readings, tempDir } from './helpers.ts';

const DAY = 24 * 3600_000;

/** A table with versions 0..24 (checkpoints at 10 and 20), and each version's live file paths. */
async function tableWithHistory(dir: string): Promise<{ lake: Lake; files: string[][] }> {
  const lake = await Lake.open(`file:${dir}`);
  const t = lake.table('t');
  await t.create(READINGS);
  for (let i = 0; i < 24; i++)
    await t.write(readings(4, i * 4), i % 5 === 4 ? { removeWhere: () => true } : {});
  const files: string[][] = [];
  for (let v = 0; v <= 24; v++) files.push((await t.snapshot(v)).files.map((f) => f.path).sort());
  return { lake, files };
}

/** Makes commits 0..upTo look written `daysAgo` days ago. */
async function age(dir: string, upTo: number, daysAgo: number): Promise<void> {
  const when = new Date(Date.now() - daysAgo * DAY);
  for (let v = 0; v <= upTo; v++)
    await utimes(join(dir, 't', '_delta_log', `${String(v).padStart(20, '0')}.json`), when, when);
}

async function logVersions(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 't', '_delta_log'))).filter((f) => /^\d{20}\./.test(f)).sort();
}

test('the log retention reads as Delta writes it, 30 days by default', () => {
  assert.equal(parseRetention(undefined), DEFAULT_LOG_RETENTION_MS);
  assert.equal(parseRetention('interval 30 days'), 30 * DAY);
  assert.equal(parseRetention('interval 1 hour'), 3600_000);
  assert.throws(
    () => parseRetention('a month'),
    (e) => isLakestreamError(e, 'BAD_INPUT'),
  );
});

test('vacuum deletes the commits past the retention that a checkpoint covers, and time travel within it still works', async () => {
  const dir = await tempDir();
  const { lake, files } = await tableWithHistory(dir);
  const t = lake.table('t');
  assert.deepEqual(await t.vacuum({ dryRun: false }), [], 'nothing is 30 days old yet');
  await age(dir, 14, 40); // commits 0..14 past the retention: the newest checkpoint before 14 is 10
  const deleted = await t.vacuum({ dryRun: false });
  assert.deepEqual(
    deleted,
    Array.from({ length: 10 }, (_, v) => `t/_delta_log/${String(v).padStart(20, '0')}.json`),
  );
  const left = await logVersions(dir);
  assert.equal(left[0], `${String(10).padStart(20, '0')}.checkpoint.parquet`);
  assert.ok(left.includes(`${String(10).padStart(20, '0')}.json`), 'the checkpoint version keeps its commit');
  const fresh = new DeltaTable(lake.store, 't');
  for (let v = 10; v <= 24; v++)
    assert.deepEqual((await fresh.snapshot(v)).files.map((f) => f.path).sort(), files[v], `version ${v}`);
  await assert.rejects(
    fresh.snapshot(9),
    (e) => isLakestreamError(e, 'NOT_FOUND') && /no longer in the log/.test(e.message),
  );
  assert.equal((await fresh.history()).at(-1)?.version, 10);
  await lake.close();
});

test('a table whose delta.logRetentionDuration is shorter keeps less, and optimize cleans too', async () => {
  const dir = await tempDir();
  const lake = await Lake.open(`file:${dir}`);
  const t = lake.table('t');
  await t.create({ ...READINGS, configuration: { 'delta.logRetentionDuration': 'interval 1 days' } });
  for (let i = 0; i < 12; i++) await t.write(readings(4, i * 4));
  await age(dir, 11, 2);
  await t.optimize(); // version 13, after checkpoint 10
  assert.equal((await logVersions(dir))[0], `${String(10).padStart(20, '0')}.checkpoint.parquet`);
  assert.equal((await t.snapshot()).numRecords, 48);
  await lake.close();
});

test('readers racing a cleanup see each version whole or NOT_FOUND, never a broken log', async () => {
  const dir = await tempDir();
  const { lake, files } = await tableWithHistory(dir);
  await lake.close();
  await age(dir, 22, 40); // the cleanup keeps checkpoint 20 on
  // slow storage (20 ms a call) widens the window between a reader's listing and its reads
  process.env.LAKESTREAM_STORE_FAULTS = 'latency=20';
  const readerLake = await Lake.open(`file:${dir}`);
  const cleanerLake = await Lake.open(`file:${dir}`);
  delete process.env.LAKESTREAM_STORE_FAULTS;
  let cleaning = true;
  const outcomes = { whole: 0, gone: 0 };
  const reader = async (seed: number) => {
    for (let i = 0; cleaning || i < 3; i++) {
      const v = (seed * 7 + i * 5) % 25;
      try {
        const snap = await new DeltaTable(readerLake.store, 't').snapshot(v);
        assert.deepEqual(snap.files.map((f) => f.path).sort(), files[v], `version ${v}`);
        outcomes.whole++;
      } catch (e) {
        assert.ok(
          isLakestreamError(e, 'NOT_FOUND') && /no longer in the log/.test(e.message) && v < 20,
          `version ${v}: ${(e as Error).message}`,
        );
        outcomes.gone++;
      }
    }
  };
  const readers = [1, 2, 3, 4].map(reader);
  const cleanup = await cleanupLog(cleanerLake.store, 't', DEFAULT_LOG_RETENTION_MS);
  cleaning = false;
  await Promise.all(readers);
  assert.equal(cleanup.keptFrom, 20);
  assert.equal(cleanup.deleted.length, 20 + 1, 'commits 0..19 and checkpoint 10');
  assert.ok(outcomes.whole > 0 && outcomes.gone > 0, JSON.stringify(outcomes));
  await readerLake.close();
  await cleanerLake.close();
});
