import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { isLakestreamError } from '../../errors.ts';
import { openStore } from '../open.ts';
import { WebHdfsStore, webHdfsOptionsFromUrl } from './index.ts';

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('webhdfs URLs', () => {
  it('opens a webhdfs:// URL with its root directory and user', async () => {
    // (retry=0: the store itself, without the wrapper that rides out outages)
    const store = await openStore('webhdfs://127.0.0.1:9870/lakestream?user=lakestream&retry=0');
    assert.ok(store instanceof WebHdfsStore);
    assert.equal(store.url, 'webhdfs://lakestream@127.0.0.1:9870/lakestream');
    assert.equal((await openStore('webhdfs://127.0.0.1:9870/lakestream?user=lakestream')).url, store.url);
    const again = await openStore(`${store.url}?retry=0`);
    assert.ok(again instanceof WebHdfsStore);
    assert.equal(again.url, store.url, 'the url opens the same store again');
    assert.equal(store.abs('t/_delta_log/0.json'), '/lakestream/t/_delta_log/0.json');
  });

  it('takes the user from LAKESTREAM_HDFS_USER when the URL names none', () => {
    const before = process.env.LAKESTREAM_HDFS_USER;
    process.env.LAKESTREAM_HDFS_USER = 'meters';
    try {
      const store = new WebHdfsStore(webHdfsOptionsFromUrl(new URL('webhdfs://127.0.0.1:9870/')));
      assert.equal(store.client.user, 'meters');
    } finally {
      if (before === undefined) delete process.env.LAKESTREAM_HDFS_USER;
      else process.env.LAKESTREAM_HDFS_USER = before;
    }
  });

  it('refuses a bad option with BAD_ARGUMENT', () => {
    assert.throws(
      () => webHdfsOptionsFromUrl(new URL('webhdfs://127.0.0.1:9870/x?putIfAbsent=maybe')),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT') && /putIfAbsent/.test(e.message),
    );
  });

  it('reports a NameNode that is not running as UNAVAILABLE within seconds', async () => {
    const port = await closedPort();
    const store = await openStore(`webhdfs://127.0.0.1:${port}/lake?user=lakestream`);
    const started = Date.now();
    await assert.rejects(
      store.get('t/_delta_log/00000000000000000000.json'),
      (e) =>
        isLakestreamError(e, 'UNAVAILABLE') &&
        e.retriable &&
        e.message.includes(`NameNode at 127.0.0.1:${port} is not reachable`) &&
        e.message.includes('/lake/t/_delta_log/00000000000000000000.json'),
    );
    assert.ok(Date.now() - started < 5000);
  });

  it('gives up on a NameNode that accepts but never answers with TIMEOUT after the configured time', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)); // holds connections open, says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const store = await openStore(`webhdfs://127.0.0.1:${port}/lake?user=lakestream&timeout=300`);
      const started = Date.now();
      await assert.rejects(
        store.stat('t/x'),
        (e) =>
          isLakestreamError(e, 'TIMEOUT') &&
          e.retriable &&
          e.message.includes(`NameNode at 127.0.0.1:${port}`),
      );
      assert.ok(Date.now() - started < 3000);
      await store.close();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
