// Deletion vectors: Z85, the RoaringBitmapArray decoding, stored and inline DVs, damaged ones
// refused, and log replay keying a file by its path and DV.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { isLakestreamError } from '../errors.ts';
import { openStore } from '../storage/index.ts';
import type { AddFile } from './actions.ts';
import {
  type DeletionVector,
  decodeBitmapArray,
  dvFilePath,
  readDeletionVector,
  z85Decode,
  z85Encode,
} from './dv.ts';
import { applyActions, emptyState } from './log/replay.ts';

/** A little-endian byte writer for hand-built bitmaps. */
function bytes(...parts: [number, 'u16' | 'u32' | 'u64'][]): Uint8Array {
  const out: number[] = [];
  for (const [v, kind] of parts) {
    const n = kind === 'u16' ? 2 : kind === 'u32' ? 4 : 8;
    for (let i = 0; i < n; i++) out.push(Number((BigInt(v) >> BigInt(8 * i)) & 0xffn));
  }
  return new Uint8Array(out);
}

const MAGIC: [number, 'u32'] = [1681511377, 'u32'];

/** Rows 1, 5, 9 (an array container) and 65539 (key 1), in one 32-bit bitmap without runs. */
/** A DV file holding one bitmap: version byte 1, the size, the bitmap, its CRC-32 (big-endian). */
function dvFile(bitmap: Uint8Array): Uint8Array {
  const file = new Uint8Array(1 + 4 + bitmap.length + 4);
  const view = new DataView(file.buffer);
  file[0] = 1;
  view.setUint32(1, bitmap.length, false);
  file.set(bitmap, 5);
  view.setUint32(5 + bitmap.length, crc32(bitmap), false);
  return file;
}

const ARRAY_BITMAP = bytes(
  MAGIC,
  [1, 'u64'],
  [0, 'u32'], // high 32 bits
  [12346, 'u32'],
  [2, 'u32'], // containers
  [0, 'u16'],
  [2, 'u16'], // key 0, 3 values
  [1, 'u16'],
  [0, 'u16'], // key 1, 1 value
  [0, 'u32'],
  [0, 'u32'], // offsets (not used to read)
  [1, 'u16'],
  [5, 'u16'],
  [9, 'u16'],
  [3, 'u16'],
);

describe('deletion vectors', () => {
  test('Z85 decodes the specification example and round-trips', () => {
    const hello = new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    assert.deepEqual(z85Decode('HelloWorld'), hello);
    assert.equal(z85Encode(hello), 'HelloWorld');
  });

  test('array containers across two 64k blocks decode to their row indexes', () => {
    assert.deepEqual(decodeBitmapArray(ARRAY_BITMAP), [1, 5, 9, 65539]);
  });

  test('run containers decode every row of each run, under the bitmap high bits', () => {
    const b = new Uint8Array([
      ...bytes(MAGIC, [1, 'u64'], [1, 'u32'], [12347, 'u32']),
      0b1, // run flags: container 0 is a run container
      ...bytes([0, 'u16'], [4, 'u16'], [1, 'u16'], [10, 'u16'], [4, 'u16']),
    ]);
    assert.deepEqual(
      decodeBitmapArray(b),
      [10, 11, 12, 13, 14].map((r) => 2 ** 32 + r),
    );
  });

  test('a bad magic number is refused', () => {
    const b = ARRAY_BITMAP.slice();
    b[0] ^= 1;
    assert.throws(() => decodeBitmapArray(b), /magic/);
  });

  test('an inline DV reads its rows', async () => {
    const store = await openStore(`memory:dv-inline-${process.pid}`);
    const padded = new Uint8Array(Math.ceil(ARRAY_BITMAP.length / 4) * 4);
    padded.set(ARRAY_BITMAP);
    const dv: DeletionVector = {
      storageType: 'i',
      pathOrInlineDv: z85Encode(padded),
      sizeInBytes: ARRAY_BITMAP.length,
      cardinality: 4,
    };
    assert.deepEqual(await readDeletionVector(store, 't', dv, 'table t'), [1, 5, 9, 65539]);
  });

  test('a stored DV is found by its prefix and uuid, and a damaged one is refused as corrupt', async () => {
    const store = await openStore(`memory:dv-stored-${process.pid}`);
    const uuid = new Uint8Array(16).map((_, i) => i * 17);
    const dv: DeletionVector = {
      storageType: 'u',
      pathOrInlineDv: `ab${z85Encode(uuid)}`,
      offset: 1,
      sizeInBytes: ARRAY_BITMAP.length,
      cardinality: 4,
    };
    const path = dvFilePath('t', dv)!;
    assert.equal(path, 't/ab/deletion_vector_00112233-4455-6677-8899-aabbccddeeff.bin');
    const file = dvFile(ARRAY_BITMAP);
    await store.put(path, file);
    assert.deepEqual(await readDeletionVector(store, 't', dv, 'table t'), [1, 5, 9, 65539]);

    await assert.rejects(
      readDeletionVector(store, 't', { ...dv, cardinality: 5 }, 'table t: data file x'),
      (e) => isLakestreamError(e, 'CORRUPT_TABLE') && /marks 4 rows, the log says 5/.test(e.message),
    );
    const damaged = file.slice();
    damaged[20] ^= 0xff;
    await store.put(path, damaged);
    await assert.rejects(
      readDeletionVector(store, 't', dv, 'table t: data file x'),
      (e) =>
        isLakestreamError(e, 'CORRUPT_TABLE') && /checksum/.test(e.message) && /data file x/.test(e.message),
    );
  });

  test('an absolute DV (storage type p) is read from its file: URL; one elsewhere is refused by name', async () => {
    const store = await openStore(`memory:dv-absolute-${process.pid}`);
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-dv-'));
    const file = dvFile(ARRAY_BITMAP);
    await writeFile(join(dir, 'dv.bin'), file);
    const dv: DeletionVector = {
      storageType: 'p',
      pathOrInlineDv: pathToFileURL(join(dir, 'dv.bin')).href,
      offset: 1,
      sizeInBytes: ARRAY_BITMAP.length,
      cardinality: 4,
    };
    assert.deepEqual(await readDeletionVector(store, 't', dv, 'table t'), [1, 5, 9, 65539]);
    await assert.rejects(
      readDeletionVector(store, 't', { ...dv, pathOrInlineDv: 's3://bucket/dv.bin' }, 'table t'),
      (e) => isLakestreamError(e, 'UNSUPPORTED') && /s3:\/\/bucket\/dv\.bin/.test(e.message),
    );
    await rm(dir, { recursive: true, force: true });
  });

  test('log replay keys a file by path and DV: a new DV added before the old one is removed stays live', () => {
    const dv = (n: number): DeletionVector => ({
      storageType: 'u',
      pathOrInlineDv: `${'0'.repeat(19)}${n}`,
      offset: 1,
      sizeInBytes: 10,
      cardinality: n,
    });
    const add = (d?: DeletionVector): { add: AddFile } => ({
      add: {
        path: 'p.parquet',
        partitionValues: {},
        size: 1,
        modificationTime: 0,
        dataChange: true,
        deletionVector: d,
      },
    });
    const state = emptyState();
    applyActions(state, 0, [add()], 'v0');
    applyActions(state, 1, [add(dv(1)), { remove: { path: 'p.parquet', dataChange: true } }], 'v1');
    assert.deepEqual(
      [...state.files.values()].map((f) => f.deletionVector?.cardinality),
      [1],
    );
    applyActions(
      state,
      2,
      [add(dv(2)), { remove: { path: 'p.parquet', dataChange: true, deletionVector: dv(1) } }],
      'v2',
    );
    assert.deepEqual(
      [...state.files.values()].map((f) => f.deletionVector?.cardinality),
      [2],
    );
    applyActions(
      state,
      3,
      [{ remove: { path: 'p.parquet', dataChange: true, deletionVector: dv(2) } }],
      'v3',
    );
    assert.equal(state.files.size, 0);
  });
});
