// The delivery log counts a message handed over twice once as redelivered, whoever received it.

import assert from 'node:assert/strict';
import { appendFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Message } from '../transport/index.ts';
import { appendDeliveries, countDeliveries } from './delivery-log.ts';

const msg = (partition: number, offset: number): Message => ({
  topic: 't',
  partition,
  offset,
  key: null,
  value: new Uint8Array(),
  timestamp: 0,
});

describe('delivery log', () => {
  it('counts offsets handed to two workers, or twice to one, as redelivered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-delivery-'));
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    appendDeliveries(a, [0, 1, 2, 3].map((o) => msg(0, o)).concat([msg(1, 0), msg(1, 1)]));
    appendDeliveries(
      a,
      [4, 5].map((o) => msg(0, o)),
    );
    // the next owner of partition 0 starts again from offset 2; partition 1 moves on from 2
    appendDeliveries(b, [2, 3, 4, 5, 6].map((o) => msg(0, o)).concat([msg(1, 2)]));
    assert.deepEqual(await countDeliveries([a, b, join(dir, 'never-written.log')]), {
      delivered: 14,
      distinct: 10,
      redelivered: 4,
    });
  });

  it('writes a run of consecutive offsets as one line, and a gap as a new one; ignores a line a kill cut short', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-delivery-'));
    const f = join(dir, 'a.log');
    appendDeliveries(f, [msg(0, 7), msg(0, 8), msg(0, 10)]);
    await appendFile(f, 't 0 11 1'); // a line cut short by a kill (of "t 0 11 12\n")
    assert.deepEqual(await countDeliveries([f]), { delivered: 3, distinct: 3, redelivered: 0 });
  });
});
