// The shared ObjectStore test suite: every implementation's test calls runObjectStoreSuite.
// It checks the rules written on the ObjectStore interface.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLakestreamError } from '../errors.ts';
import type { ObjectStore } from './object-store.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

export function runObjectStoreSuite(name: string, newStore: () => Promise<ObjectStore>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    it('gets back the bytes it put', async () => {
      const s = await newStore();
      await s.put('a/b/c.txt', enc('hello'));
      assert.equal(dec(await s.get('a/b/c.txt')), 'hello');
      const info = await s.stat('a/b/c.txt');
      assert.equal(info?.size, 5);
      assert.equal(info?.path, 'a/b/c.txt');
      assert.ok(info && info.modificationTime > 0);
    });

    it('put overwrites', async () => {
      const s = await newStore();
      await s.put('x', enc('one'));
      await s.put('x', enc('two!'));
      assert.equal(dec(await s.get('x')), 'two!');
    });

    it('lists recursively, sorted, under a prefix only', async () => {
      const s = await newStore();
      for (const p of [
        't/_delta_log/00000000000000000001.json',
        't/_delta_log/00000000000000000000.json',
        't/day=2/f.parquet',
        't/day=1/f.parquet',
        'u/other',
        'tt/x',
      ])
        await s.put(p, enc(p));
      const paths = (await s.list('t/')).map((o) => o.path);
      assert.deepEqual(paths, [
        't/_delta_log/00000000000000000000.json',
        't/_delta_log/00000000000000000001.json',
        't/day=1/f.parquet',
        't/day=2/f.parquet',
      ]);
      const log = (await s.list('t/_delta_log/0000')).map((o) => o.path);
      assert.equal(log.length, 2);
      assert.deepEqual(await s.list('nothing/here/'), []);
    });

    it('get of a missing path is NOT_FOUND, stat is undefined', async () => {
      const s = await newStore();
      await assert.rejects(s.get('missing/file'), (e) => isLakestreamError(e, 'NOT_FOUND'));
      assert.equal(await s.stat('missing/file'), undefined);
    });

    it('putIfAbsent writes once and reports an existing path as a result, not an error', async () => {
      const s = await newStore();
      assert.deepEqual(await s.putIfAbsent('log/0.json', enc('first')), { written: true });
      assert.deepEqual(await s.putIfAbsent('log/0.json', enc('second')), {
        written: false,
        reason: 'exists',
      });
      assert.equal(dec(await s.get('log/0.json')), 'first');
    });

    it('exactly one of many concurrent putIfAbsent calls wins', async () => {
      const s = await newStore();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s.putIfAbsent('race/00000000000000000007.json', enc(`writer ${i}`)),
        ),
      );
      const winners = results.map((r, i) => (r.written ? i : -1)).filter((i) => i >= 0);
      assert.equal(winners.length, 1);
      assert.equal(dec(await s.get('race/00000000000000000007.json')), `writer ${winners[0]}`);
      assert.equal((await s.list('race/')).length, 1, 'no temp files are listed');
    });

    it('renames, refusing to replace an existing target', async () => {
      const s = await newStore();
      await s.put('r/from', enc('data'));
      await s.put('r/taken', enc('keep'));
      await assert.rejects(s.rename('r/from', 'r/taken'), (e) => isLakestreamError(e, 'CONFLICT'));
      await s.rename('r/from', 'r/sub/to');
      assert.equal(dec(await s.get('r/sub/to')), 'data');
      assert.equal(await s.stat('r/from'), undefined);
      assert.equal(dec(await s.get('r/taken')), 'keep');
      await assert.rejects(s.rename('r/none', 'r/x'), (e) => isLakestreamError(e, 'NOT_FOUND'));
    });

    it('deletes, and deleting a missing path is not an error', async () => {
      const s = await newStore();
      await s.put('d/x', enc('1'));
      assert.equal(await s.delete('d/x'), true);
      assert.equal(await s.delete('d/x'), false);
      assert.deepEqual(await s.list('d/'), []);
    });

    it('keeps binary data byte for byte', async () => {
      const s = await newStore();
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 7919) % 256);
      await s.put('bin/blob', bytes);
      assert.deepEqual(await s.get('bin/blob'), bytes);
    });

    it('gives a local file path with the object bytes', async () => {
      const s = await newStore();
      await s.put('p/q.bin', enc('local'));
      const { readFile } = await import('node:fs/promises');
      assert.equal(dec(await readFile(await s.localPath('p/q.bin'))), 'local');
    });

    it('refuses paths that escape the root', async () => {
      const s = await newStore();
      await assert.rejects(s.put('../evil', enc('x')));
    });
  });
}
