// The storage-fault wrapper: a full disk refuses writes (ENOSPC, retriable) until space returns; slow storage delays every call.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isLakestreamError } from '../errors.ts';
import { parseStoreFaults, withStoreFaults } from './faults.ts';
import { LocalStore } from './local.ts';
import { openStore } from './open.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('storage faults', () => {
  it('refuse every write with a retriable "storage full" while the flag file exists, and allow them again once it is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-faults-'));
    const flag = join(dir, 'full');
    const store = withStoreFaults(new LocalStore(join(dir, 'lake')), { fullWhile: flag });
    await store.put('a.json', bytes('1'));
    await writeFile(flag, '');
    for (const write of [
      () => store.put('b.json', bytes('2')),
      () => store.putIfAbsent('_delta_log/0.json', bytes('3')),
      () => store.rename('a.json', 'c.json'),
    ])
      await assert.rejects(
        write,
        (e) => isLakestreamError(e, 'UNAVAILABLE') && e.retriable && /ENOSPC/.test(e.message),
      );
    assert.deepEqual(await store.get('a.json'), bytes('1'), 'reads go on');
    assert.equal(await store.stat('b.json'), undefined, 'nothing half written');
    await store.put('_status/workers/w.json', bytes('{}')); // status files stay writable
    await rm(flag);
    assert.deepEqual(await store.putIfAbsent('_delta_log/0.json', bytes('3')), { written: true });
    await rm(dir, { recursive: true });
  });

  it('add the latency to every call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-faults-'));
    const store = withStoreFaults(new LocalStore(dir), { latencyMs: 100 });
    const t0 = performance.now();
    await store.put('x', bytes('x'));
    await store.get('x');
    await store.list('');
    assert.ok(performance.now() - t0 >= 300, `three calls took ${performance.now() - t0} ms`);
    await rm(dir, { recursive: true });
  });

  it('add the latency only while the slow-while flag file exists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-faults-'));
    const flag = join(dir, 'slow');
    const store = withStoreFaults(new LocalStore(join(dir, 'lake')), parseStoreFaults(`slow-while=${flag}`)!);
    const timed = async () => {
      const t0 = performance.now();
      await store.stat('x');
      return performance.now() - t0;
    };
    assert.ok((await timed()) < 100, 'fast without the flag');
    await writeFile(flag, '');
    assert.ok((await timed()) >= 200, 'the default 200 ms with it');
    await rm(dir, { recursive: true });
  });

  it('are selected by LAKESTREAM_STORE_FAULTS, and a malformed value is refused', async () => {
    assert.deepEqual(parseStoreFaults('full-while=/tmp/f, latency=200'), {
      fullWhile: '/tmp/f',
      latencyMs: 200,
    });
    assert.equal(parseStoreFaults(undefined), undefined);
    assert.throws(
      () => parseStoreFaults('latency=fast'),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT'),
    );
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-faults-'));
    process.env.LAKESTREAM_STORE_FAULTS = `full-while=${dir}`; // the directory exists: full
    try {
      const store = await openStore(`file:${join(dir, 'lake')}`);
      await assert.rejects(store.put('x', bytes('x')), /storage full/);
    } finally {
      delete process.env.LAKESTREAM_STORE_FAULTS;
      await rm(dir, { recursive: true });
    }
  });
});
