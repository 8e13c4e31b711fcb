// A record of what the transport handed a stream worker (`stream --delivery-log FILE`), written before
// the worker processes it, so that redeliveries — which exactly-once makes invisible in the lake — can be counted.

import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Message } from '../transport/index.ts';

/**
 * Appends one line `topic partition first last` per run of consecutive offsets. Synchronous on
 * purpose: once the poll returns to the worker its line is in the file, even if the worker is killed next.
 */
export function appendDeliveries(file: string, msgs: Message[]): void {
  const lines: string[] = [];
  let run: { topic: string; partition: number; first: number; last: number } | undefined;
  const flush = () => {
    if (run) lines.push(`${run.topic} ${run.partition} ${run.first} ${run.last}`);
  };
  for (const m of msgs) {
    if (run && run.topic === m.topic && run.partition === m.partition && m.offset === run.last + 1)
      run.last = m.offset;
    else {
      flush();
      run = { topic: m.topic, partition: m.partition, first: m.offset, last: m.offset };
    }
  }
  flush();
  if (lines.length > 0) appendFileSync(file, `${lines.join('\n')}\n`);
}

export interface DeliveryCount {
  /** messages handed over, counting every time */
  delivered: number;
  /** distinct (topic, partition, offset) handed over */
  distinct: number;
  /** delivered - distinct: messages handed over more than once */
  redelivered: number;
}

/** Counts the deliveries recorded in some delivery logs (one per worker run); missing files count as empty. */
export async function countDeliveries(files: string[]): Promise<DeliveryCount> {
  const ranges = new Map<string, [number, number][]>();
  let delivered = 0;
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => '');
    const lines = text.split('\n');
    lines.pop(); // after the last newline: nothing, or a line cut short by a kill
    for (const line of lines) {
      const [topic, partition, first, last] = line.split(' ');
      const a = Number(first);
      const b = Number(last);
      delivered += b - a + 1;
      const k = `${topic} ${partition}`;
      const list = ranges.get(k) ?? [];
      list.push([a, b]);
      ranges.set(k, list);
    }
  }
  let distinct = 0;
  for (const list of ranges.values()) {
    list.sort((x, y) => x[0] - y[0]);
    let end = -1;
    for (const [a, b] of list) {
      if (b <= end) continue;
      distinct += b - Math.max(a, end + 1) + 1;
      end = b;
    }
  }
  return { delivered, distinct, redelivered: delivered - distinct };
}
