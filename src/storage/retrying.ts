// An ObjectStore that rides out outages of a remote store: every call that fails with a retriable
// error (server unreachable, safe mode, no DataNode, timeout) is repeated with exponential backoff
// for up to `deadlineMs`, telling the user what it waits for. Stream workers, training and the
// dashboard thus pause through a NameNode restart and resume, rather than fail. Until the store
// has answered once, nothing is retried: a wrong address is a mistake to report at once, not an
// outage to wait out.
//
// Repeating is safe for every call here: get/list/stat read; put and delete are idempotent;
// a putIfAbsent or rename whose reply was lost may report 'exists' / CONFLICT on the retry even
// though it took effect — the Delta log tells its own commits apart (txn and txnId), and renames
// are only used to move temp files into place.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { ObjectStore } from './object-store.ts';
import { withRetry } from './retry.ts';

export interface RetryingOptions {
  /** give up after this long (default 5 minutes) */
  deadlineMs?: number;
  log?: (line: string) => void;
}

/** A call of a retrying store that is waiting out an outage: why, and since when. */
export interface StoreWait {
  url: string;
  /** the last error, e.g. "NameNode at 127.0.0.1:9870 is in safe mode: cannot CREATE …" */
  reason: string;
  /** ISO time of the first failure of this call */
  since: string;
}

// The calls waiting right now, in this process: a stream worker's status says why it is not
// committing while its batch sits in a retry loop (the loop itself cannot tell it).
const waits = new Map<number, StoreWait>();
let nextWait = 0;

// The stop signal of the work a call is made for (a stream worker's), when it asked for one: a
// stopping worker gives up its waits at once, rather than sit out up to `deadlineMs` of an outage
// first. Abandoning a batch mid-way is safe: it is what a killed worker does, and the next owner
// completes or discards it from the lake (stream/manifest.ts).
const stopScope = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` so that the retrying stores' waits it makes (directly or not) end when `signal` aborts. */
export function stopWaitingOn<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  return signal ? stopScope.run(signal, fn) : fn();
}

/** The calls of retrying stores that are waiting out an outage now, the longest-waiting first. */
export function storeWaits(): StoreWait[] {
  return [...waits.values()].sort((a, b) => a.since.localeCompare(b.since));
}

export function withStoreRetries(inner: ObjectStore, opts: RetryingOptions = {}): ObjectStore {
  const deadlineMs = opts.deadlineMs ?? 300_000;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let answered = false;
  const retry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (!answered) {
      const first = await fn();
      answered = true;
      return first;
    }
    const id = nextWait++;
    try {
      return await withRetry(fn, {
        attempts: Number.POSITIVE_INFINITY,
        initialDelayMs: 250,
        maxDelayMs: 10_000,
        deadlineMs,
        signal: stopScope.getStore(),
        onRetry: (e, attempt, delay) => {
          const since = waits.get(id)?.since ?? new Date().toISOString();
          waits.set(id, { url: inner.url, reason: e.message, since });
          log(
            `${inner.url}: ${what}: ${e.message}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1})`,
          );
        },
      });
    } finally {
      waits.delete(id);
    }
  };
  return {
    url: inner.url,
    list: (prefix) => retry(`list ${prefix}`, () => inner.list(prefix)),
    get: (path) => retry(`get ${path}`, () => inner.get(path)),
    stat: (path) => retry(`stat ${path}`, () => inner.stat(path)),
    put: (path, data) => retry(`put ${path}`, () => inner.put(path, data)),
    putIfAbsent: (path, data) => retry(`putIfAbsent ${path}`, () => inner.putIfAbsent(path, data)),
    rename: (from, to) => retry(`rename ${from}`, () => inner.rename(from, to)),
    delete: (path) => retry(`delete ${path}`, () => inner.delete(path)),
    localPath: (path) => retry(`download ${path}`, () => inner.localPath(path)),
    close: () => inner.close(),
  };
}
