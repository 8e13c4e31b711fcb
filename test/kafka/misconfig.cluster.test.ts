// A wrong Kafka address or topic fails within seconds with an error that names it, never hangs.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/cluster/config.ts';
import { isLakestreamError } from '../../src/errors.ts';
import { openTransport } from '../../src/transport/index.ts';
import { openKafkaTransport } from '../../src/transport/kafka/index.ts';
import { ensureCluster } from '../helpers/cluster.ts';

const cluster = await ensureCluster({ kafka: true });

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** Times a promise that must reject; returns the error and the milliseconds it took. */
async function failure(work: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  assert.fail('expected a failure');
}

describe('Kafka misconfiguration', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it('fails with UNAVAILABLE naming the address when no broker listens on the port', async () => {
    const port = await closedPort();
    const { error, ms } = await failure(() => openTransport(`kafka://127.0.0.1:${port}`));
    assert.ok(isLakestreamError(error, 'UNAVAILABLE'), String(error));
    assert.match((error as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.ok(ms < 8000, `took ${ms} ms`);
  });

  it('fails with UNAVAILABLE within seconds when the port accepts connections but never answers', async () => {
    const silent = createServer(() => {}); // accepts and says nothing, like a hung process
    servers.push(silent);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as { port: number }).port;
    const { error, ms } = await failure(() => openKafkaTransport(`kafka://127.0.0.1:${port}`));
    assert.ok(isLakestreamError(error, 'UNAVAILABLE'), String(error));
    assert.match((error as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.ok(ms < 8000, `took ${ms} ms`);
  });

  it('fails with UNAVAILABLE when the port is a web server rather than a broker', async () => {
    const http = createServer((socket) => {
      socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    });
    servers.push(http);
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const port = (http.address() as { port: number }).port;
    const { error, ms } = await failure(() => openKafkaTransport(`kafka://127.0.0.1:${port}`));
    assert.ok(isLakestreamError(error, 'UNAVAILABLE'), String(error));
    assert.ok(ms < 8000, `took ${ms} ms`);
  });

  it("fails with UNAVAILABLE saying so when given the KRaft controller's port instead of a broker's", async () => {
    const controller = loadConfig(cluster.dir)!.kafka.controllerPort;
    const { error, ms } = await failure(() => openTransport(`kafka://127.0.0.1:${controller}`));
    assert.ok(isLakestreamError(error, 'UNAVAILABLE'), String(error));
    assert.match((error as Error).message, /not a Kafka broker|did not answer as a Kafka broker/);
    assert.ok(ms < 8000, `took ${ms} ms`);
  });

  it('skips a dead bootstrap address when another one answers', async () => {
    const port = await closedPort();
    const t = await openTransport(`kafka://127.0.0.1:${port},${cluster.kafkaBootstrap}`);
    try {
      assert.ok(Array.isArray(await t.listTopics()));
    } finally {
      await t.close();
    }
  });

  it('refuses a malformed URL before connecting', async () => {
    const { error, ms } = await failure(() => openTransport('kafka://127.0.0.1'));
    assert.ok(isLakestreamError(error, 'BAD_ARGUMENT'), String(error));
    assert.ok(ms < 1000);
  });

  it('fails with NOT_FOUND naming an unknown topic within seconds, for producer, consumer and offsets alike', async () => {
    const t = await openTransport(cluster.kafkaUrl);
    const topic = `no-such-topic-${process.pid}-${Date.now()}`;
    try {
      const p = await t.producer();
      for (const work of [
        () => p.send(topic, [{ key: 'k', value: new Uint8Array([1]) }]),
        () => t.consumer({ group: `g-${topic}`, topics: [topic] }),
        () => t.endOffsets(topic),
        () => t.committedOffsets(`g-${topic}`, topic),
      ]) {
        const { error, ms } = await failure(work);
        assert.ok(isLakestreamError(error, 'NOT_FOUND'), String(error));
        assert.ok((error as Error).message.includes(`"${topic}"`), (error as Error).message);
        assert.ok(ms < 8000, `took ${ms} ms`);
      }
      await p.close();
    } finally {
      await t.close();
    }
  });
});
