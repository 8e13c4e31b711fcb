// Bounded retry with exponential backoff and jitter for errors marked retriable (NameNode down or in
// safe mode, no DataNode available, timeouts). Anything else is thrown at once.

import { setTimeout as sleep } from 'node:timers/promises';
import { LakestreamError } from '../errors.ts';

export interface RetryOptions {
  /** total attempts, the first included; default 8 */
  attempts?: number;
  /** delay before the first retry; doubles each time; default 200 ms */
  initialDelayMs?: number;
  /** cap on one delay; default 5 s */
  maxDelayMs?: number;
  /** stop retrying once this much time has passed since the first attempt; default none */
  deadlineMs?: number;
  /** ends the waiting between attempts: the last error is thrown, not retriable, saying it stopped */
  signal?: AbortSignal;
  /** told before each wait, e.g. to print "NameNode in safe mode, retrying in 0.8 s" */
  onRetry?: (error: LakestreamError, attempt: number, delayMs: number) => void;
}

function isRetriable(e: unknown): e is LakestreamError {
  return e instanceof LakestreamError && e.retriable;
}

/**
 * Runs `fn` until it succeeds, a non-retriable error occurs, or the attempts (or deadline) run out; then
 * throws the last error with "gave up after N attempts" added. Only wrap operations that are safe to
 * repeat: a putIfAbsent whose reply was lost may have written, and its retry then reports 'exists'.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 8);
  const initial = opts.initialDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 5000;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isRetriable(e)) throw e;
      const base = Math.min(max, initial * 2 ** (attempt - 1));
      // Half fixed, half random: spreads retrying workers out yet keeps the backoff growing.
      const delay = Math.round(base / 2 + Math.random() * (base / 2));
      const elapsed = Date.now() - started;
      const outOfTime = opts.deadlineMs !== undefined && elapsed + delay > opts.deadlineMs;
      if (attempt >= attempts || outOfTime)
        throw new LakestreamError(
          e.code,
          `${e.message} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${(elapsed / 1000).toFixed(1)} s)`,
          { cause: e, retriable: true },
        );
      opts.onRetry?.(e, attempt, delay);
      try {
        await sleep(delay, undefined, { signal: opts.signal });
      } catch {
        throw new LakestreamError(
          e.code,
          `${e.message} (stopped waiting after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${(elapsed / 1000).toFixed(1)} s: stopping)`,
          { cause: e, retriable: false },
        );
      }
    }
  }
}
