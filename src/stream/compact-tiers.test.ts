// The stream's compaction by size tier: a file the stream compacted is not rewritten with every new
// small file (which made each compaction rewrite the partition's whole day so far), so the bytes
// rewritten over a day grow as the day times a logarithm, not as its square.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AddFile, planCompaction } from '../lake/index.ts';
import { DEFAULT_COMPACTION, sizeTier } from './compact.ts';

const TARGET = 128 * 1024 * 1024;
const file = (path: string, size: number): AddFile => ({
  path,
  partitionValues: { day: '2013-01-01' },
  size,
  modificationTime: 0,
  dataChange: true,
});

/**
 * A day of `batches` batch files of `size` bytes into one table partition, compacted every
 * `every` batches as the worker does; the bytes the compactions rewrote, and the files left.
 */
function day(batches: number, size: number, tiered: boolean) {
  const { everyBatches: every, minFiles } = DEFAULT_COMPACTION;
  const group = tiered ? (f: AddFile) => String(sizeTier(f.size, minFiles)) : undefined;
  let files: AddFile[] = [];
  let rewritten = 0;
  let n = 0;
  for (let b = 1; b <= batches; b++) {
    files.push(file(`w0-${b}.parquet`, size));
    if (b % every !== 0) continue;
    for (const bin of planCompaction(files, TARGET, minFiles, group)) {
      const sum = bin.reduce((a, f) => a + f.size, 0);
      rewritten += sum;
      files = files.filter((f) => !bin.includes(f)).concat(file(`w0-c-${n++}.parquet`, sum));
    }
  }
  return { rewritten, files: files.length, total: batches * size };
}

test('a compacted file is compacted again only with files of its size', () => {
  const small = Array.from({ length: 8 }, (_, i) => file(`w0-${i}.parquet`, 100_000));
  const big = file('w0-c-0.parquet', 800_000 * 8);
  const group = (f: AddFile) => String(sizeTier(f.size, 8));
  assert.deepEqual(planCompaction([big, ...small], TARGET, 8, group), [small]);
  // without tiers the big file goes into the bin again
  assert.deepEqual(planCompaction([big, ...small], TARGET, 8), [[...small, big]]);
});

test("a day's compactions rewrite its bytes a few times, not once per compaction", () => {
  // a million meters on 6 partitions: ~960 batches of 50,000 readings a day, ~120 KB of bronze each
  const tiered = day(960, 120_000, true);
  const flat = day(960, 120_000, false);
  assert.ok(
    tiered.rewritten <= 4 * tiered.total,
    `tiers rewrote ${tiered.rewritten} bytes of a ${tiered.total}-byte day`,
  );
  // what it replaces rewrote the day so far at each of the 60 compactions: ~30 times the day
  assert.ok(flat.rewritten > 20 * flat.total, `${flat.rewritten} of ${flat.total}`);
  // and the partition keeps a few files of each size for readers until `lake optimize`
  assert.ok(tiered.files <= 4 * DEFAULT_COMPACTION.minFiles, `${tiered.files} files`);
});
