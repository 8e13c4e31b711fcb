// Spark Connect addresses, and a Spark that is not there: refused or silent, connect() fails within 10 s
// with one line naming the address (no Spark needed: the servers here are plain TCP).

import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { isLakestreamError } from '../../errors.ts';
import { parseSparkAddress, SparkConnectClient } from './index.ts';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe('Spark Connect addresses', () => {
  it('reads sc:// and spark:// with a port, and 15002 without one', () => {
    assert.deepEqual(
      [parseSparkAddress('sc://127.0.0.1:15102'), parseSparkAddress('spark://localhost')].map((a) => [
        a.host,
        a.port,
        a.display,
        a.baseUrl,
      ]),
      [
        ['127.0.0.1', 15102, 'sc://127.0.0.1:15102', 'http://127.0.0.1:15102'],
        ['localhost', 15002, 'sc://localhost:15002', 'http://localhost:15002'],
      ],
    );
  });

  it("takes Spark's connection-string parameters user_id and session_id", () => {
    const a = parseSparkAddress('sc://h:1/;user_id=ada;session_id=0b3a7f9e-8a5e-4c3b-9b1a-2f0e6c1d4a77');
    assert.equal(a.userId, 'ada');
    assert.equal(a.sessionId, '0b3a7f9e-8a5e-4c3b-9b1a-2f0e6c1d4a77');
  });

  it('refuses what is not an address, a port out of range, a session id that is not a UUID, and TLS', () => {
    for (const [url, code] of [
      ['http://127.0.0.1:15002', 'BAD_ARGUMENT'],
      ['sc://127.0.0.1:70000', 'BAD_ARGUMENT'],
      ['sc://h:1/;session_id=abc', 'BAD_ARGUMENT'],
      ['sc://h:1/;use_ssl=true', 'UNSUPPORTED'],
      ['sc://h:1/;token=secret', 'UNSUPPORTED'],
    ] as const) {
      assert.throws(
        () => parseSparkAddress(url),
        (e) => isLakestreamError(e, code),
        url,
      );
    }
  });
});

describe('connecting to a Spark Connect server that is not there', () => {
  it('fails at once, naming the address, when nothing listens', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    await assert.rejects(SparkConnectClient.connect(`sc://127.0.0.1:${port}`), (e) => {
      assert.ok(isLakestreamError(e, 'UNAVAILABLE'));
      assert.match(
        e.message,
        new RegExp(`^Spark Connect at sc://127\\.0\\.0\\.1:${port} does not answer \\(.*ECONNREFUSED`),
      );
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
    assert.ok(Date.now() - t0 < 2_000);
  });

  it('fails within 10 s, naming the address, when the port accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    const port = await listen(silent);
    try {
      const t0 = Date.now();
      await assert.rejects(SparkConnectClient.connect(`spark://127.0.0.1:${port}`), (e) => {
        assert.ok(isLakestreamError(e, 'UNAVAILABLE'));
        assert.equal(
          e.message,
          `Spark Connect at sc://127.0.0.1:${port} does not answer (nothing within 8 s)`,
        );
        return true;
      });
      const ms = Date.now() - t0;
      assert.ok(ms >= 7_500 && ms < 10_000, `${ms} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('gives up when its signal is aborted, with the signal’s reason', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    const port = await listen(silent);
    try {
      const reason = new Error('user gave up');
      await assert.rejects(
        SparkConnectClient.connect(`sc://127.0.0.1:${port}`, { signal: abortAfter(300, reason) }),
        (e) => e === reason,
      );
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

function abortAfter(ms: number, reason: Error): AbortSignal {
  const ac = new AbortController();
  setTimeout(() => ac.abort(reason), ms);
  return ac.signal;
}
