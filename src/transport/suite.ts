// The shared Transport test suite: every implementation's test calls runTransportSuite. It checks
// the rules written on the Transport interface, with unique topic and group names per test so it
// can run against a shared Kafka cluster.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isLakestreamError } from '../errors.ts';
import { partitionForKey } from './murmur2.ts';
import {
  consumeN,
  dec,
  enc,
  keyed,
  nextOffsets,
  plain,
  pollUntil,
  sortTp,
  tp,
  unique,
} from './suite-helpers.ts';
import {
  type Consumer,
  type ConsumerOptions,
  DEFAULT_PARTITIONS,
  type Message,
  type TopicPartition,
  type Transport,
} from './transport.ts';

export function runTransportSuite(name: string, newTransport: () => Promise<Transport>): void {
  describe(`Transport conformance: ${name}`, { timeout: 120_000 }, () => {
    const opened: Transport[] = [];
    const open = async () => {
      const t = await newTransport();
      opened.push(t);
      return t;
    };
    const consumers: Consumer[] = [];
    const subscribe = async (t: Transport, options: ConsumerOptions) => {
      const c = await t.consumer(options);
      consumers.push(c);
      return c;
    };
    after(async () => {
      for (const c of consumers) await c.close().catch(() => {});
      for (const t of opened) await t.close().catch(() => {});
    });

    it('creates topics idempotently and keeps their first partition count', async () => {
      const t = await open();
      const topic = unique('topics');
      assert.deepEqual(await t.ensureTopic(topic, 3), { name: topic, partitions: 3 });
      assert.deepEqual(await t.ensureTopic(topic, 3), { name: topic, partitions: 3 });
      assert.deepEqual(await t.ensureTopic(topic, 5), { name: topic, partitions: 3 });
      const other = unique('default');
      assert.equal((await t.ensureTopic(other)).partitions, DEFAULT_PARTITIONS);
      const listed = await t.listTopics();
      assert.deepEqual(
        listed.find((i) => i.name === topic),
        { name: topic, partitions: 3 },
      );
      assert.ok(listed.some((i) => i.name === other));
      const again = await open();
      assert.deepEqual(
        await again.ensureTopic(topic, 1),
        { name: topic, partitions: 3 },
        'seen by a new instance',
      );
    });

    it('puts a key in the partition Kafka would pick and keeps send order within it', async () => {
      const t = await open();
      const topic = unique('keys');
      await t.ensureTopic(topic, 6);
      const keys = Array.from({ length: 40 }, (_, i) => `meter-${i}`);
      const p = await t.producer();
      await p.send(topic, keyed(keys, 'first'));
      await p.send(topic, keyed(keys, 'second'));
      await p.close();
      const c = await subscribe(t, { group: unique('g'), topics: [topic] });
      const got = await consumeN(c, 80);
      assert.equal(got.length, 80);
      for (const m of got) {
        assert.equal(m.topic, topic);
        assert.equal(m.partition, partitionForKey(m.key!, 6), `partition of ${m.key}`);
      }
      for (const key of keys) {
        const mine = got.filter((m) => m.key === key);
        assert.deepEqual(
          mine.map((m) => dec(m.value).split(':')[0]),
          ['first', 'second'],
          `order of ${key}`,
        );
        assert.ok(mine[0].offset < mine[1].offset);
      }
      // Offsets start at 0 per partition and grow with each message.
      for (let part = 0; part < 6; part++) {
        const offsets = got.filter((m) => m.partition === part).map((m) => m.offset);
        if (offsets.length === 0) continue;
        assert.equal(offsets[0], 0);
        for (let i = 1; i < offsets.length; i++) assert.ok(offsets[i] > offsets[i - 1]);
      }
    });

    it('reports end offsets per partition and keeps timestamps and null keys', async () => {
      const t = await open();
      const topic = unique('ends');
      await t.ensureTopic(topic, 4);
      const keys = Array.from({ length: 30 }, (_, i) => `k${i % 11}`);
      const p = await t.producer();
      const stamp = Date.UTC(2013, 0, 1, 0, 30);
      await p.send(
        topic,
        keyed(keys).map((m) => ({ ...m, timestamp: stamp })),
      );
      const before = Date.now();
      await p.send(topic, [{ key: null, value: enc('no key') }]);
      await p.close();
      const expected = [0, 0, 0, 0];
      for (const k of keys) expected[partitionForKey(k, 4)]++;
      const ends = await t.endOffsets(topic);
      assert.equal(ends.length, 4);
      const total = ends.reduce((s, e) => s + e.offset, 0);
      assert.equal(total, 31);
      const c = await subscribe(t, { group: unique('g'), topics: [topic] });
      const got = await consumeN(c, 31);
      const nullKeyed = got.find((m) => m.key === null)!;
      assert.equal(dec(nullKeyed.value), 'no key');
      assert.ok(nullKeyed.timestamp >= before - 1000 && nullKeyed.timestamp <= Date.now() + 1000);
      for (const e of ends)
        assert.equal(e.offset, expected[e.partition] + (e.partition === nullKeyed.partition ? 1 : 0));
      for (const m of got) if (m.key !== null) assert.equal(m.timestamp, stamp);
    });

    it('makes a sent message visible to a new transport instance once send resolves', async () => {
      const t = await open();
      const topic = unique('durable');
      await t.ensureTopic(topic, 2);
      const p = await t.producer();
      await p.send(topic, keyed(['a', 'b', 'c']));
      const other = await open();
      const ends = await other.endOffsets(topic);
      assert.equal(
        ends.reduce((s, e) => s + e.offset, 0),
        3,
      );
      const c = await subscribe(other, { group: unique('g'), topics: [topic] });
      assert.deepEqual((await consumeN(c, 3)).map((m) => m.key).sort(), ['a', 'b', 'c']);
      await p.close();
    });

    it('resumes a group from its committed offsets after closing and reopening', async () => {
      const topic = unique('resume');
      const group = unique('g');
      const t1 = await open();
      await t1.ensureTopic(topic, 1);
      const p = await t1.producer();
      await p.send(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: 'one', value: enc(String(i)) })),
      );
      await p.close();
      const c1 = await subscribe(t1, { group, topics: [topic] });
      const first = (await consumeN(c1, 10)).slice(0, 4);
      // Nothing is committed implicitly: only what commit() is given counts.
      await c1.commit(nextOffsets(first));
      assert.deepEqual(await t1.committedOffsets(group, topic), [{ topic, partition: 0, offset: 4 }]);
      await c1.close();
      const t2 = await open();
      assert.deepEqual(await t2.committedOffsets(group, topic), [{ topic, partition: 0, offset: 4 }]);
      const c2 = await subscribe(t2, { group, topics: [topic] });
      const rest = await consumeN(c2, 6);
      assert.deepEqual(
        rest.map((m) => dec(m.value)),
        ['4', '5', '6', '7', '8', '9'],
      );
      assert.deepEqual(await t2.committedOffsets(unique('never-committed'), topic), []);
    });

    it('lets each group read every message on its own', async () => {
      const t = await open();
      const topic = unique('groups');
      await t.ensureTopic(topic, 3);
      const p = await t.producer();
      await p.send(topic, keyed(['x', 'y', 'z', 'w']));
      await p.close();
      const a = await subscribe(t, { group: unique('ga'), topics: [topic] });
      const b = await subscribe(t, { group: unique('gb'), topics: [topic] });
      assert.equal((await consumeN(a, 4)).length, 4);
      assert.equal((await consumeN(b, 4)).length, 4);
    });

    it('returns at most maxMessages per poll, and [] after the timeout when nothing arrives', async () => {
      const t = await open();
      const topic = unique('poll');
      await t.ensureTopic(topic, 1);
      const c = await subscribe(t, { group: unique('g'), topics: [topic] });
      await pollUntil([c], () => c.assignment().length === 1, 'the assignment');
      const started = Date.now();
      assert.deepEqual(await c.poll(10, 300), []);
      const waited = Date.now() - started;
      assert.ok(waited >= 250 && waited < 5000, `an empty poll took ${waited} ms`);
      const p = await t.producer();
      await p.send(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: enc(String(i)) })),
      );
      await p.close();
      const got: Message[] = [];
      const deadline = Date.now() + 30_000;
      while (got.length < 10 && Date.now() < deadline) {
        const batch = await c.poll(3, 1000);
        assert.ok(batch.length <= 3, `poll(3) returned ${batch.length}`);
        got.push(...batch);
      }
      assert.deepEqual(
        got.map((m) => dec(m.value)),
        ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      );
    });

    it('starts a group without commits at the end when asked for latest', async () => {
      const t = await open();
      const topic = unique('latest');
      await t.ensureTopic(topic, 1);
      const p = await t.producer();
      await p.send(topic, keyed(['old1', 'old2']));
      const c = await subscribe(t, { group: unique('g'), topics: [topic], from: 'latest' });
      await pollUntil([c], () => c.assignment().length === 1, 'the assignment');
      assert.deepEqual(await c.poll(10, 300), []);
      await p.send(topic, keyed(['new']));
      await p.close();
      assert.deepEqual(
        (await consumeN(c, 1)).map((m) => m.key),
        ['new'],
      );
    });

    it('seeks an assigned partition forward and back', async () => {
      const t = await open();
      const topic = unique('seek');
      await t.ensureTopic(topic, 1);
      const p = await t.producer();
      await p.send(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: enc(String(i)) })),
      );
      await p.close();
      const c = await subscribe(t, { group: unique('g'), topics: [topic] });
      await consumeN(c, 1);
      c.seek({ topic, partition: 0, offset: 7 });
      assert.deepEqual(
        (await consumeN(c, 3)).map((m) => m.offset),
        [7, 8, 9],
      );
      c.seek({ topic, partition: 0, offset: 2 });
      const again = await consumeN(c, 8);
      assert.deepEqual(
        again.map((m) => m.offset),
        [2, 3, 4, 5, 6, 7, 8, 9],
      );
    });

    it('splits partitions between two members of a group; each message reaches exactly one', async () => {
      const t = await open();
      const topic = unique('split');
      const group = unique('g');
      await t.ensureTopic(topic, 4);
      const a = await subscribe(t, { group, topics: [topic] });
      const b = await subscribe(await open(), { group, topics: [topic] });
      const disjointCover = () => {
        const as = a.assignment().map(tp);
        const bs = b.assignment().map(tp);
        return (
          as.length > 0 && bs.length > 0 && as.length + bs.length === 4 && !as.some((x) => bs.includes(x))
        );
      };
      const seen = new Map<string, number>();
      const record = async (who: number, ms: Message[]) => {
        const owner = who === 0 ? a : b;
        for (const m of ms) {
          const id = `${m.partition}@${m.offset}`;
          assert.ok(!seen.has(id), `message ${id} consumed twice`);
          seen.set(id, who);
          assert.ok(owner.assignment().some((x) => x.partition === m.partition));
        }
        if (ms.length > 0) await owner.commit(nextOffsets(ms));
      };
      await pollUntil([a, b], disjointCover, 'both members to own partitions', record);
      const p = await t.producer();
      await p.send(topic, keyed(Array.from({ length: 200 }, (_, i) => `meter-${i}`)));
      await p.close();
      await pollUntil([a, b], () => seen.size >= 200, 'all 200 messages', record);
      assert.equal(seen.size, 200);
      const byA = [...seen.values()].filter((w) => w === 0).length;
      assert.ok(byA > 0 && byA < 200, `member a consumed ${byA} of 200`);
    });

    it('gives the partitions of a member that closes to the one that stays', async () => {
      const t = await open();
      const topic = unique('handover');
      const group = unique('g');
      await t.ensureTopic(topic, 4);
      const events: { who: string; kind: 'assign' | 'revoke'; partitions: number[] }[] = [];
      const track = (who: string) => ({
        onAssign: (ps: TopicPartition[]) =>
          void events.push({ who, kind: 'assign', partitions: sortTp(ps).map((x) => x.partition) }),
        onRevoke: (ps: TopicPartition[]) =>
          void events.push({ who, kind: 'revoke', partitions: sortTp(ps).map((x) => x.partition) }),
      });
      const a = await subscribe(t, { group, topics: [topic], ...track('a') });
      const b = await subscribe(await open(), { group, topics: [topic], ...track('b') });
      await pollUntil(
        [a, b],
        () =>
          a.assignment().length > 0 &&
          b.assignment().length > 0 &&
          a.assignment().length + b.assignment().length === 4,
        'both members to own partitions',
      );
      const aHad = sortTp(a.assignment()).map((x) => x.partition);
      // a consumes what lands in its partitions and commits it before leaving.
      const keys = Array.from({ length: 100 }, (_, i) => `meter-${i}`);
      const inA = keys.filter((k) => aHad.includes(partitionForKey(k, 4)));
      const p = await t.producer();
      await p.send(topic, keyed(inA));
      await a.commit(nextOffsets(await consumeN(a, inA.length)));
      await a.close();
      const revokedFromA = events.filter((e) => e.who === 'a' && e.kind === 'revoke').at(-1);
      assert.deepEqual(revokedFromA?.partitions, aHad, 'onRevoke told a what it gave up');
      await pollUntil([b], () => b.assignment().length === 4, 'b to own all partitions');
      // (An eager rebalance may revoke and re-assign everything; a cooperative one adds the new ones.)
      const assignedToB = new Set(
        events.filter((e) => e.who === 'b' && e.kind === 'assign').flatMap((e) => e.partitions),
      );
      assert.deepEqual([...assignedToB].sort(), [0, 1, 2, 3], 'onAssign told b of every partition it got');
      // b starts a's old partitions at a's committed offsets: only new messages arrive.
      await p.send(topic, keyed(inA, 'after'));
      await p.close();
      const bGot = await consumeN(b, inA.length);
      assert.ok(bGot.every((m) => dec(m.value).startsWith('after:')));
    });

    it('keeps binary values byte for byte: invalid UTF-8, empty, and 1 MB', async () => {
      const t = await open();
      const topic = unique('binary');
      await t.ensureTopic(topic, 1);
      const invalid = new Uint8Array([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1, 0xed, 0xa0, 0x80]);
      const big = new Uint8Array(1_000_000).map((_, i) => (i * 2654435761) >>> 24);
      const p = await t.producer();
      await p.send(topic, [
        { key: 'bin', value: invalid },
        { key: 'bin', value: new Uint8Array(0) },
        { key: 'bin', value: big },
        { key: 'ключ-🙂', value: enc('unicode key') },
      ]);
      await p.close();
      const c = await subscribe(t, { group: unique('g'), topics: [topic] });
      const got = await consumeN(c, 4);
      assert.deepEqual(plain(got[0].value), invalid);
      assert.equal(got[1].value.byteLength, 0);
      assert.equal(got[2].value.byteLength, big.byteLength);
      assert.ok(Buffer.compare(plain(got[2].value), big) === 0, '1 MB value differs');
      assert.equal(got[3].key, 'ключ-🙂');
    });

    it('fails with NOT_FOUND naming the topic when producing to or consuming an unknown topic', async () => {
      const t = await open();
      const topic = unique('missing');
      const p = await t.producer();
      await assert.rejects(
        p.send(topic, [{ key: 'k', value: enc('x') }]),
        (e) => isLakestreamError(e, 'NOT_FOUND') && e.message.includes(topic),
      );
      await p.close();
      await assert.rejects(
        async () => {
          const c = await t.consumer({ group: unique('g'), topics: [topic] });
          try {
            await c.poll(10, 2000);
          } finally {
            await c.close();
          }
        },
        (e) => isLakestreamError(e, 'NOT_FOUND') && e.message.includes(topic),
      );
      await assert.rejects(
        t.endOffsets(topic),
        (e) => isLakestreamError(e, 'NOT_FOUND') && e.message.includes(topic),
      );
      assert.ok(!(await t.listTopics()).some((i) => i.name === topic), 'producing did not create the topic');
    });
  });
}
