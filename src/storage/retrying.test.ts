import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLakestreamError, LakestreamError } from '../errors.ts';
import { MemoryStore } from './memory.ts';
import type { ObjectStore } from './object-store.ts';
import { withStoreRetries } from './retrying.ts';

/** A memory store that fails with a retriable error while `down` is set. */
function flaky(): { store: ObjectStore; setDown(v: boolean): void; calls: () => number } {
  const inner = new MemoryStore();
  let down = false;
  let calls = 0;
  const gate = <T>(fn: () => Promise<T>) => {
    calls++;
    if (down)
      return Promise.reject(new LakestreamError('UNAVAILABLE', 'NameNode at 127.0.0.1:1 is not reachable'));
    return fn();
  };
  const store: ObjectStore = {
    url: inner.url,
    list: (p) => gate(() => inner.list(p)),
    get: (p) => gate(() => inner.get(p)),
    stat: (p) => gate(() => inner.stat(p)),
    put: (p, d) => gate(() => inner.put(p, d)),
    putIfAbsent: (p, d) => gate(() => inner.putIfAbsent(p, d)),
    rename: (a, b) => gate(() => inner.rename(a, b)),
    delete: (p) => gate(() => inner.delete(p)),
    localPath: (p) => gate(() => inner.localPath(p)),
    close: () => inner.close(),
  };
  return { store, setDown: (v) => (down = v), calls: () => calls };
}

describe('a store with retries', () => {
  it('reports an unreachable server at once when it never answered (a wrong address)', async () => {
    const f = flaky();
    f.setDown(true);
    const s = withStoreRetries(f.store, { log: () => {} });
    await assert.rejects(s.get('x'), (e) => isLakestreamError(e, 'UNAVAILABLE'));
    assert.equal(f.calls(), 1);
  });

  it('waits out an outage after the server has answered, and resumes', async () => {
    const f = flaky();
    const lines: string[] = [];
    const s = withStoreRetries(f.store, { log: (l) => lines.push(l) });
    await s.put('a', new Uint8Array([1]));
    f.setDown(true);
    setTimeout(() => f.setDown(false), 1200);
    assert.deepEqual(await s.get('a'), new Uint8Array([1]));
    assert.ok(lines.length >= 1 && /not reachable; retrying in/.test(lines[0]), lines.join('\n'));
  });

  it('gives up after the deadline with the last error', async () => {
    const f = flaky();
    const s = withStoreRetries(f.store, { deadlineMs: 600, log: () => {} });
    await s.put('a', new Uint8Array([1]));
    f.setDown(true);
    await assert.rejects(s.get('a'), (e) => isLakestreamError(e, 'UNAVAILABLE') && /gave up/.test(e.message));
  });

  it('does not retry errors that are not retriable', async () => {
    const s = withStoreRetries(new MemoryStore(), { log: () => {} });
    await s.put('a', new Uint8Array([1]));
    await assert.rejects(s.get('missing'), (e) => isLakestreamError(e, 'NOT_FOUND'));
  });
});
