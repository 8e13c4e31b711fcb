// A NameNode in safe mode, or down, or a DataNode killed: the WebHDFS store says so clearly or works
// around it, and a writer that retries with backoff resumes once the NameNode is back. These tests disturb the NameNode, so they run on an HDFS of their
// own (a second `lakestream cluster up --hdfs` beside the shared test cluster, on other ports).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clusterDown, clusterUp, hdfsClasspath, killNode, startNode } from '../../src/cluster/cluster.ts';
import type { ClusterConfig } from '../../src/cluster/config.ts';
import { runJava } from '../../src/cluster/processes.ts';
import { isLakestreamError, type LakestreamError } from '../../src/errors.ts';
import { withRetry } from '../../src/storage/index.ts';
import { openWebHdfs, type WebHdfsStore } from '../../src/storage/webhdfs/index.ts';

const PORT_OFFSET = 1100; // NameNode HTTP 10970, RPC 9120; DataNodes 10964-10977
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const log = (line: string) => process.stderr.write(`[outage cluster] ${line}\n`);

let dir: string;
let config: ClusterConfig;
let store: WebHdfsStore;

/** `hdfs dfsadmin -safemode enter|leave`, as the cluster's superuser. */
async function safemode(action: 'enter' | 'leave'): Promise<void> {
  await runJava({
    classpath: await hdfsClasspath(config),
    mainClass: 'org.apache.hadoop.hdfs.tools.DFSAdmin',
    args: ['-safemode', action],
    jvm: [`-DHADOOP_USER_NAME=${config.hdfs.user}`, '-Xmx256m', '-XX:TieredStopAtLevel=1'],
    what: `hdfs dfsadmin -safemode ${action}`,
  });
}

describe('WebHDFS store through NameNode and DataNode outages', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-outage-'));
    const r = await clusterUp({ dir, parts: ['hdfs'], portOffset: PORT_OFFSET, log });
    config = r.config;
    store = openWebHdfs(`webhdfs://127.0.0.1:${config.hdfs.httpPort}/lake?user=${config.hdfs.user}`);
  });

  after(async () => {
    await store?.close();
    if (!dir) return;
    await clusterDown({ dir, parts: ['hdfs'], wipe: true, log });
    await rm(dir, { recursive: true, force: true });
  });

  it('in safe mode, writes fail with a clear retriable error and a retrying writer resumes after it leaves', async () => {
    await store.put('t/_delta_log/00000000000000000000.json', enc('{"v":0}'));
    await safemode('enter');
    try {
      await assert.rejects(
        store.putIfAbsent('t/_delta_log/00000000000000000001.json', enc('{"v":1}')),
        (e) =>
          isLakestreamError(e, 'UNAVAILABLE') &&
          e.retriable &&
          e.message.includes(`NameNode at 127.0.0.1:${config.hdfs.httpPort} is in safe mode`) &&
          e.message.includes('/lake/t/_delta_log/'),
      );
      // reads go on in safe mode
      assert.equal(dec(await store.get('t/_delta_log/00000000000000000000.json')), '{"v":0}');
    } catch (e) {
      await safemode('leave');
      throw e;
    }
    const retries: LakestreamError[] = [];
    let left: Promise<void> | undefined;
    const result = await withRetry(
      () => store.putIfAbsent('t/_delta_log/00000000000000000001.json', enc('{"v":1}')),
      {
        attempts: 30,
        initialDelayMs: 200,
        maxDelayMs: 2000,
        onRetry: (e) => {
          retries.push(e);
          left ??= safemode('leave'); // the operator fixes it while the writer waits
        },
      },
    );
    await left;
    assert.deepEqual(result, { written: true });
    assert.ok(retries.length >= 1 && retries.every((e) => /safe mode/.test(e.message)));
    assert.equal(dec(await store.get('t/_delta_log/00000000000000000001.json')), '{"v":1}');
  });

  it('with a DataNode killed, reads and writes go on through the other one', async () => {
    for (let i = 0; i < 5; i++) await store.put(`dn/before-${i}.json`, enc(`before ${i}`));
    await killNode(dir, 'datanode-1');
    try {
      // the NameNode still counts the killed DataNode as live for a while, and still names it
      for (let i = 0; i < 5; i++) assert.equal(dec(await store.get(`dn/before-${i}.json`)), `before ${i}`);
      for (let i = 0; i < 10; i++) {
        await store.put(`dn/during-${i}.json`, enc(`during ${i}`));
        assert.equal(dec(await store.get(`dn/during-${i}.json`)), `during ${i}`);
      }
      assert.equal((await store.list('dn/')).length, 15);
    } finally {
      await startNode(dir, 'datanode-1', { log });
    }
  });

  it('with the NameNode down, calls fail fast as UNAVAILABLE and a retrying writer resumes after its restart', async () => {
    await killNode(dir, 'namenode');
    const started = Date.now();
    await assert.rejects(
      store.list('t/_delta_log/'),
      (e) =>
        isLakestreamError(e, 'UNAVAILABLE') &&
        e.message.includes(`NameNode at 127.0.0.1:${config.hdfs.httpPort} is not reachable`),
    );
    assert.ok(Date.now() - started < 5000, 'the failure is reported within seconds');
    const retries: LakestreamError[] = [];
    let restarted: Promise<void> | undefined;
    const result = await withRetry(
      () => store.putIfAbsent('t/_delta_log/00000000000000000002.json', enc('{"v":2}')),
      {
        attempts: 60,
        initialDelayMs: 250,
        maxDelayMs: 2000,
        deadlineMs: 180_000,
        onRetry: (e) => {
          retries.push(e);
          restarted ??= startNode(dir, 'namenode', { log });
        },
      },
    );
    await restarted;
    assert.deepEqual(result, { written: true });
    assert.ok(retries.some((e) => /not reachable/.test(e.message)));
    const log0 = await store.list('t/_delta_log/');
    assert.deepEqual(
      log0.map((o) => o.path.slice(-25)),
      ['00000000000000000000.json', '00000000000000000001.json', '00000000000000000002.json'],
    );
  });
});
