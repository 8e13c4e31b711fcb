// Unit test of the head every scenario's result opens with.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resultHead } from './result.ts';

describe('resultHead', () => {
  it('names the scenario, its start in ISO 8601, the URLs it ran on and its seconds to a tenth', () => {
    const head = resultHead(
      'stress',
      new Date('2026-12-05T22:00:00Z'),
      true,
      { transportUrl: 'kafka://127.0.0.1:9092', lakeUrl: 'file:///tmp/lake' },
      12.345,
    );
    assert.deepEqual(head, {
      scenario: 'stress',
      started_at: '2026-12-05T22:00:00.000Z',
      short: true,
      transport: 'kafka://127.0.0.1:9092',
      lake: 'file:///tmp/lake',
      seconds: 12.3,
    });
    assert.deepEqual(Object.keys(head), ['scenario', 'started_at', 'short', 'transport', 'lake', 'seconds']);
  });
});
