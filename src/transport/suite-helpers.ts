// Helpers of the shared Transport suite (./suite.ts): unique names, polling until a condition
// holds, offsets to commit. Usable by any transport's own tests.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Consumer, Message, OutgoingMessage, TopicPartition } from './transport.ts';

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);
/** Implementations may return Buffer or Uint8Array; compare bytes only. */
export const plain = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
export const tp = (p: TopicPartition) => `${p.topic}/${p.partition}`;
export const sortTp = (ps: TopicPartition[]) =>
  [...ps].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);

let counter = 0;
/** Kafka-legal names ([a-zA-Z0-9._-]), unique across runs that share a cluster. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}-${counter++}`;
}

export const keyed = (keys: string[], tag = 'v'): OutgoingMessage[] =>
  keys.map((key, i) => ({ key, value: enc(`${tag}:${key}:${i}`) }));

/** Polls until `until` holds, giving up after `ms` with an assertion naming what was awaited. */
export async function pollUntil(
  consumers: Consumer[],
  until: () => boolean,
  what: string,
  sink: (c: number, ms: Message[]) => void | Promise<void> = () => {},
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!until()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    for (let i = 0; i < consumers.length; i++) await sink(i, await consumers[i].poll(500, 100));
  }
}

/** Polls one consumer until it has received `n` messages (committing nothing). */
export async function consumeN(c: Consumer, n: number, ms = 30_000): Promise<Message[]> {
  const got: Message[] = [];
  await pollUntil(
    [c],
    () => got.length >= n,
    `${n} messages`,
    (_, batch) => void got.push(...batch),
    ms,
  );
  return got;
}

export const nextOffsets = (ms: Message[]) => {
  const last = new Map<string, Message>();
  for (const m of ms) last.set(tp(m), m);
  return [...last.values()].map((m) => ({ topic: m.topic, partition: m.partition, offset: m.offset + 1 }));
};
