// Storage faults for the resilience bench and tests: a store wrapper that fails writes with ENOSPC
// (storage full) while a flag file exists, and/or adds latency to every call (slow storage).
// Selected by LAKESTREAM_STORE_FAULTS (any lake URL; never set in normal use), with flag files so
// a bench can turn a fault on and off under a running worker.

import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from './object-store.ts';

/**
 * Comma-separated: `full-while=PATH` (writes fail with ENOSPC while PATH exists), `latency=MS` (added to
 * every call), `slow-while=PATH` (the latency, 200 ms unless given, only while PATH exists).
 */
export const STORE_FAULTS_ENV = 'LAKESTREAM_STORE_FAULTS';

/**
 * Worker status files stay writable under the simulated full disk, so `status` can say why the worker
 * stopped (a real full disk may refuse them too; `status` then shows the worker's last status as stale).
 */
const SPARED_PREFIX = '_status/';

export interface StoreFaults {
  /** writes fail with ENOSPC while this file exists */
  fullWhile?: string;
  /** added before every call */
  latencyMs?: number;
  /** the latency applies only while this file exists */
  slowWhile?: string;
}

const DEFAULT_SLOW_MS = 200;

export function parseStoreFaults(text: string | undefined): StoreFaults | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const faults: StoreFaults = {};
  for (const part of text.split(',')) {
    const [key, value = ''] = part.split(/=(.*)/s, 2).map((s) => s.trim());
    if (key === 'full-while' && value !== '') faults.fullWhile = value;
    else if (key === 'slow-while' && value !== '') faults.slowWhile = value;
    else if (key === 'latency' && /^\d+$/.test(value)) faults.latencyMs = Number(value);
    else
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `${STORE_FAULTS_ENV}: "${part}" is not full-while=PATH, slow-while=PATH or latency=MS`,
      );
  }
  if (faults.slowWhile !== undefined) faults.latencyMs ??= DEFAULT_SLOW_MS;
  return faults;
}

/** The error a full disk gives: retriable, since space can come back. */
export function storageFullError(url: string, path: string, cause?: unknown): LakestreamError {
  return new LakestreamError('UNAVAILABLE', `storage full (ENOSPC) writing ${path} in ${url}`, {
    cause,
    retriable: true,
  });
}

export function withStoreFaults(inner: ObjectStore, faults: StoreFaults): ObjectStore {
  const delay = async () => {
    if (faults.latencyMs && (faults.slowWhile === undefined || existsSync(faults.slowWhile)))
      await sleep(faults.latencyMs);
  };
  const read =
    <A extends unknown[], T>(f: (...a: A) => Promise<T>) =>
    async (...a: A): Promise<T> => {
      await delay();
      return f(...a);
    };
  const write =
    <A extends [string, ...unknown[]], T>(f: (...a: A) => Promise<T>) =>
    async (...a: A): Promise<T> => {
      await delay();
      const path = a[0];
      if (faults.fullWhile !== undefined && !path.startsWith(SPARED_PREFIX) && existsSync(faults.fullWhile))
        throw storageFullError(inner.url, path);
      return f(...a);
    };
  return {
    url: inner.url,
    list: read((prefix: string) => inner.list(prefix)),
    get: read((path: string) => inner.get(path)),
    stat: read((path: string) => inner.stat(path)),
    localPath: read((path: string) => inner.localPath(path)),
    put: write((path: string, data: Uint8Array) => inner.put(path, data)),
    putIfAbsent: write((path: string, data: Uint8Array) => inner.putIfAbsent(path, data)),
    rename: write((from: string, to: string) => inner.rename(from, to)),
    // deleting frees space: a full disk allows it
    delete: read((path: string) => inner.delete(path)),
    close: () => inner.close(),
  };
}
