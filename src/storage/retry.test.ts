import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLakestreamError, LakestreamError } from '../errors.ts';
import { withRetry } from './retry.ts';

const unavailable = () => new LakestreamError('UNAVAILABLE', 'NameNode at 127.0.0.1:9870 is in safe mode');

describe('withRetry', () => {
  it('retries a retriable error until the call succeeds', async () => {
    const seen: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        if (attempt < 3) throw unavailable();
        return 'done';
      },
      { initialDelayMs: 5, onRetry: (_e, attempt) => seen.push(attempt) },
    );
    assert.equal(result, 'done');
    assert.deepEqual(seen, [1, 2]);
  });

  it('throws an error that is not retriable at once', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls++;
        throw new LakestreamError('PERMISSION', 'permission denied: user "bob"');
      }),
      (e) => isLakestreamError(e, 'PERMISSION'),
    );
    assert.equal(calls, 1);
  });

  it('gives up after the bounded number of attempts and says so', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw unavailable();
        },
        { attempts: 4, initialDelayMs: 2 },
      ),
      (e) => isLakestreamError(e, 'UNAVAILABLE') && /safe mode .*gave up after 4 attempts/.test(e.message),
    );
    assert.equal(calls, 4);
  });

  it('stops at the deadline even with attempts left', async () => {
    const started = Date.now();
    await assert.rejects(
      withRetry(
        async () => {
          throw unavailable();
        },
        { attempts: 100, initialDelayMs: 20, maxDelayMs: 40, deadlineMs: 150 },
      ),
      /gave up/,
    );
    assert.ok(Date.now() - started < 1000);
  });
});
