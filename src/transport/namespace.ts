// A transport whose topic names and consumer group ids carry a prefix, so that several pipelines
// (test runs, demos) share one Kafka cluster without seeing each other's topics or groups.
// URL form: `<transport URL>#ns=<prefix>`.

import type {
  Consumer,
  ConsumerOptions,
  Message,
  PartitionOffset,
  Producer,
  TopicPartition,
  Transport,
} from './transport.ts';

export function withNamespace(inner: Transport, prefix: string): Transport {
  const add = (t: string) => `${prefix}${t}`;
  const strip = (t: string) => (t.startsWith(prefix) ? t.slice(prefix.length) : t);
  const outTp = <T extends TopicPartition>(x: T): T => ({ ...x, topic: strip(x.topic) });
  const inTp = <T extends TopicPartition>(x: T): T => ({ ...x, topic: add(x.topic) });
  return {
    url: `${inner.url}#ns=${prefix}`,
    ensureTopic: async (name, partitions) => {
      const info = await inner.ensureTopic(add(name), partitions);
      return { ...info, name };
    },
    listTopics: async () =>
      (await inner.listTopics())
        .filter((t) => t.name.startsWith(prefix))
        .map((t) => ({ ...t, name: strip(t.name) })),
    producer: async (): Promise<Producer> => {
      const p = await inner.producer();
      return { send: (topic, messages) => p.send(add(topic), messages), close: () => p.close() };
    },
    consumer: async (o: ConsumerOptions): Promise<Consumer> => {
      const c = await inner.consumer({
        ...o,
        group: add(o.group),
        topics: o.topics.map(add),
        onAssign: o.onAssign && ((ps) => o.onAssign?.(ps.map(outTp))),
        onRevoke: o.onRevoke && ((ps) => o.onRevoke?.(ps.map(outTp))),
      });
      return {
        poll: async (max, timeout) =>
          (await c.poll(max, timeout)).map((m: Message) => ({ ...m, topic: strip(m.topic) })),
        commit: (offsets: PartitionOffset[]) => c.commit(offsets.map(inTp)),
        seek: (p: PartitionOffset) => c.seek(inTp(p)),
        assignment: () => c.assignment().map(outTp),
        close: () => c.close(),
      };
    },
    endOffsets: async (topic) => (await inner.endOffsets(add(topic))).map(outTp),
    committedOffsets: async (group, topic) =>
      (await inner.committedOffsets(add(group), add(topic))).map(outTp),
    close: () => inner.close(),
  };
}
