// `lakestream cluster up --spark`: a Spark of its own (master, worker, Spark Connect; free ports found by an
// offset, a temporary directory) answers real queries through the TypeScript Spark Connect client, shows in
// `status`, takes a killed worker back, and goes down; a Spark that is not there fails fast, by its address.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killNode, startNode } from '../../src/cluster/cluster.ts';
import { SPARK_NODES } from '../../src/cluster/config.ts';
import { alivePid, taggedPids } from '../../src/cluster/processes.ts';
import type { ClusterStatus } from '../../src/cluster/status.ts';
import { SparkConnectClient } from '../../src/engine/spark/index.ts';
import { cli, runCli } from '../helpers/cli.ts';
import { freePortOffset } from '../helpers/cluster.ts';

/** One value of a one-row, one-column answer, as a JS number. */
async function scalar(url: string, query: string): Promise<number> {
  const client = await SparkConnectClient.connect(url);
  try {
    const table = await client.sql(query);
    assert.equal(table.numRows, 1);
    return Number(table.getChildAt(0)?.get(0));
  } finally {
    await client.close();
  }
}

// a job over a range runs in an executor (SELECT 1 alone is answered by the driver)
const SUM_QUERY = 'SELECT sum(id) AS s FROM range(1000000)';
const SUM = 499_999_500_000;

describe('lakestream cluster up --spark', () => {
  let dir: string;
  let url: string;

  async function status(): Promise<{ code: number | null; s: ClusterStatus }> {
    const r = await runCli(['cluster', 'status', '--dir', dir, '--json']);
    return { code: r.code, s: JSON.parse(r.stdout) as ClusterStatus };
  }
  const node = (s: ClusterStatus, n: string) => s.nodes.find((x) => x.node === n)!;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-spark-test-'));
    const offset = await freePortOffset();
    url = `sc://127.0.0.1:${15002 + offset}`;
    const t0 = Date.now();
    const r = await cli(
      ['cluster', 'up', '--spark', '--dir', dir, '--port-offset', String(offset), '--json'],
      {
        timeoutMs: 900_000,
      },
    );
    process.stderr.write(`cluster up --spark took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const up = JSON.parse(r.stdout) as { started: string[]; sparkConnectUrl: string };
    assert.deepEqual([...up.started].sort(), [...SPARK_NODES].sort());
    assert.equal(up.sparkConnectUrl, url);
  });
  after(async () => {
    await runCli(['cluster', 'down', '--dir', dir, '--wipe']);
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a query that runs on the worker through Spark Connect, with Delta and UTC configured', async () => {
    assert.equal(await scalar(url, SUM_QUERY), SUM);
    const client = await SparkConnectClient.connect(url);
    try {
      assert.equal((await client.sql('SELECT current_timezone() AS tz')).getChild('tz')?.get(0), 'UTC');
      const ext = await client.sql('SET spark.sql.extensions');
      assert.equal(ext.getChild('value')?.get(0), 'io.delta.sql.DeltaSparkSessionExtension');
    } finally {
      await client.close();
    }
  });

  it('lists the master, the worker and Spark Connect as healthy in status, and Kafka and HDFS as down', async () => {
    const { code, s } = await status();
    assert.equal(code, 0);
    assert.equal(s.healthy, true);
    assert.deepEqual(s.healthyParts, ['spark']);
    for (const n of SPARK_NODES) assert.ok(node(s, n).healthy && node(s, n).pid !== null, `${n} healthy`);
    assert.equal(node(s, 'broker-1').alive, false);
    assert.equal(s.spark?.connectUrl, url);
    assert.equal(s.spark?.aliveWorkers, 1);
    assert.ok((s.spark?.app?.cores ?? 0) > 0, 'the Connect application holds the worker cores');
  });

  it('shows a killed worker down, its executor gone, and takes it back: queries run again', async () => {
    assert.equal(await killNode(dir, 'spark-worker'), true);
    const { code, s } = await status();
    assert.equal(code, 1, 'status exits 1 while a node is down');
    assert.equal(node(s, 'spark-worker').alive, false);
    assert.equal(s.spark?.aliveWorkers, 0);
    assert.deepEqual(taggedPids(dir, 'spark-executor'), [], 'the executor went with its worker');

    await startNode(dir, 'spark-worker');
    const again = await status();
    assert.equal(node(again.s, 'spark-worker').healthy, true);
    assert.equal(await scalar(url, SUM_QUERY), SUM);
  });

  it('takes a killed master back with its worker and the Connect application (recovery), and queries run again', async () => {
    const before = (await status()).s.spark?.app?.id;
    assert.equal(await killNode(dir, 'spark-master'), true);
    assert.equal(node((await status()).s, 'spark-master').alive, false);
    await startNode(dir, 'spark-master');
    const { s } = await status();
    assert.equal(node(s, 'spark-master').healthy, true);
    assert.equal(s.spark?.app?.id, before, 'the same application, recovered by the new master');
    assert.equal(await scalar(url, SUM_QUERY), SUM);
  });

  it('stops the three nodes and their executor with down, and deletes the data with --wipe', async () => {
    const r = await cli(['cluster', 'down', '--dir', dir, '--wipe', '--json']);
    assert.deepEqual([...JSON.parse(r.stdout).stopped].sort(), [...SPARK_NODES].sort());
    for (const n of SPARK_NODES) assert.equal(alivePid(dir, n), undefined, `${n} stopped`);
    assert.deepEqual(taggedPids(dir, 'spark-executor'), []);
    assert.equal(existsSync(join(dir, 'spark')), false);
  });
});

describe('a Spark Connect server that is not there', () => {
  /** Within 10 s, one line that names the address. */
  async function failsFast(url: string, address: string): Promise<void> {
    const t0 = Date.now();
    await assert.rejects(
      async () => {
        const client = await SparkConnectClient.connect(url);
        try {
          await client.sql('SELECT 1');
        } finally {
          await client.close();
        }
      },
      (e: Error) => {
        assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
        assert.ok(e.message.includes(address), `names ${address}: ${e.message}`);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 10_000, `failed after ${Date.now() - t0} ms`);
  }

  it('fails within 10 s naming the address when nothing listens there', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    await failsFast(`sc://127.0.0.1:${port}`, `127.0.0.1:${port}`);
  });

  it('fails within 10 s naming the address when the port accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      await failsFast(`sc://127.0.0.1:${port}`, `127.0.0.1:${port}`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
