// The process's DuckDB instance: its settings, and that reading many files does not grow its memory.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { duckMemoryBytes, withDuck } from './duck.ts';

const cacheBytes = () =>
  withDuck(async (c) => {
    const r = await c.runAndReadAll(
      `SELECT memory_usage_bytes::DOUBLE FROM duckdb_memory() WHERE tag = 'EXTERNAL_FILE_CACHE'`,
    );
    return Number(r.getRows()[0]?.[0]);
  });

test('the instance keeps no cache of the files it reads (a stream worker reads new ones every batch)', async () => {
  const setting = await withDuck(
    async (c) =>
      (await c.runAndReadAll(`SELECT current_setting('enable_external_file_cache')`)).getRows()[0][0],
  );
  assert.equal(setting, false);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-duck-'));
  try {
    await withDuck(async (c) => {
      for (let i = 0; i < 20; i++) {
        const file = join(dir, `f${i}.parquet`);
        await c.run(
          `COPY (SELECT range AS a, range::VARCHAR || '-${i}' AS b FROM range(50000)) TO '${file}' (FORMAT parquet)`,
        );
        const r = await c.runAndReadAll(`SELECT count(*)::INTEGER FROM read_parquet('${file}')`);
        assert.equal(r.getRows()[0][0], 50000, 'the file reads back whole');
      }
    });
    assert.equal(await cacheBytes(), 0, 'nothing of the 20 files is kept');
    const total = await duckMemoryBytes();
    assert.ok(total !== null && total >= 0, `duckdb_memory() total ${total}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
