import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLakestreamError, LakestreamError } from '../errors.ts';
import { MemoryStore } from './memory.ts';
import type { ObjectStore } from './object-store.ts';
import { stopWaitingOn, storeWaits, withStoreRetries } from './retrying.ts';
import { remoteError } from './webhdfs/errors.ts';

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

  it("gives up a wait made for work that stops, and only that work's", async () => {
    const f = flaky();
    const s = withStoreRetries(f.store, { log: () => {} }); // five minutes of deadline
    await s.put('a', new Uint8Array([1]));
    f.setDown(true);
    const stop = new AbortController();
    const stopped = stopWaitingOn(stop.signal, () => s.get('a'));
    const other = s.get('a'); // made outside the stopping work: it keeps waiting
    await new Promise((r) => setTimeout(r, 400));
    const callsBefore = f.calls();
    stop.abort();
    await assert.rejects(
      stopped,
      (e) =>
        isLakestreamError(e, 'UNAVAILABLE') &&
        !e.retriable &&
        /not reachable \(stopped waiting after \d+ attempts? in [\d.]+ s: stopping\)/.test(e.message),
    );
    f.setDown(false);
    assert.deepEqual(await other, new Uint8Array([1]), 'the other wait resumes when the store is back');
    assert.ok(f.calls() > callsBefore);
  });

  it('does not retry errors that are not retriable', async () => {
    const s = withStoreRetries(new MemoryStore(), { log: () => {} });
    await s.put('a', new Uint8Array([1]));
    await assert.rejects(s.get('missing'), (e) => isLakestreamError(e, 'NOT_FOUND'));
  });

  it('waits out a NameNode in safe mode, says why while it waits, and gives up at its deadline', async () => {
    const inner = new MemoryStore();
    let safe = false;
    let calls = 0;
    // what the WebHDFS store throws for a write to a NameNode in safe mode (HTTP 403)
    const safeMode = () =>
      remoteError(
        403,
        JSON.stringify({
          RemoteException: {
            exception: 'SafeModeException',
            message: 'Cannot create file/lake/a. Name node is in safe mode.',
          },
        }),
        { op: 'CREATE', path: '/lake/a', user: 'u', server: 'NameNode at nn:1', namenode: 'nn:1' },
      );
    const store: ObjectStore = {
      url: inner.url,
      list: (p) => inner.list(p),
      get: (p) => inner.get(p),
      stat: (p) => inner.stat(p),
      put: (p, d) => {
        calls++;
        return safe ? Promise.reject(safeMode()) : inner.put(p, d);
      },
      putIfAbsent: (p, d) => inner.putIfAbsent(p, d),
      rename: (a, b) => inner.rename(a, b),
      delete: (p) => inner.delete(p),
      localPath: (p) => inner.localPath(p),
      close: () => inner.close(),
    };
    // a deadline far from the 700 ms of safe mode: a loaded machine's late timers cannot reach it
    const s = withStoreRetries(store, { deadlineMs: 60_000, log: () => {} });
    await s.put('a', new Uint8Array([1]));
    safe = true;
    // left in time: the write goes through, and while it waited storeWaits() said why
    const seen: string[] = [];
    const watch = setInterval(() => seen.push(...storeWaits().map((w) => w.reason)), 50);
    setTimeout(() => (safe = false), 700);
    try {
      await s.put('a', new Uint8Array([2]));
    } finally {
      clearInterval(watch);
    }
    assert.deepEqual(await s.get('a'), new Uint8Array([2]));
    assert.ok(
      seen.some((r) => /NameNode at nn:1 is in safe mode/.test(r)),
      seen.join('\n'),
    );
    assert.deepEqual(storeWaits(), [], 'no wait is left once the call is through');
    // held past the deadline: the last error, saying it gave up, not an endless wait
    const short = withStoreRetries(store, { deadlineMs: 1500, log: () => {} });
    await short.get('a'); // it has answered once: from now on it retries
    safe = true;
    const before = calls;
    await assert.rejects(
      short.put('a', new Uint8Array([3])),
      (e) =>
        isLakestreamError(e, 'UNAVAILABLE') && /safe mode/.test(e.message) && /gave up after/.test(e.message),
    );
    assert.ok(calls - before > 1, 'it retried before giving up');
    assert.deepEqual(storeWaits(), []);
  });
});
