// Issue 16: a stream worker must live through a NameNode restart that stays in safe mode for a while
// (the 60-minute soak lost its worker ~22 s after the NameNode came back in safe mode). A real worker
// process on a private Kafka + HDFS: the NameNode is SIGKILLed while readings arrive, restarted and
// held in safe mode (`hdfs dfsadmin -safemode enter`) while more arrive, then let out; the same worker
// process must have paused, said why, and then stored every acknowledged reading exactly once —
// counted by identity (meter, timestamp) against the simulator, as the resilience bench does.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reconcile } from '../../src/bench/identities.ts';
import { type Child, startLakestream, startWorker } from '../../src/bench/processes.ts';
import { segmentArgs } from '../../src/bench/producer-loop.ts';
import { sleep, waitFor } from '../../src/bench/progress.ts';
import { clusterDown, clusterUp, killNode, setSafemode, startNode } from '../../src/cluster/cluster.ts';
import type { ClusterConfig } from '../../src/cluster/config.ts';
import { nameNodeReport } from '../../src/cluster/hdfs.ts';
import { portOpen } from '../../src/cluster/processes.ts';
import { isLakestreamError } from '../../src/errors.ts';
import { withStoreRetries } from '../../src/storage/index.ts';
import { openWebHdfs } from '../../src/storage/webhdfs/index.ts';

const PORT_OFFSET = 2100; // Kafka 11192/11194 (controller 11193), NameNode HTTP 11970, RPC 10120
const METERS = 40; // a segment (one simulated day) is 40 × 48 = 1,920 readings
const log = (line: string) => process.stderr.write(`[nn safe mode] ${line}\n`);

let dir: string;
let config: ClusterConfig;
let transportUrl: string;
let lakeUrl: string;
let worker: Child | undefined;

/** Produces segment n (acknowledged when the producer exits 0). */
async function produce(n: number): Promise<void> {
  const p = startLakestream(segmentArgs(n, { meters: METERS, rate: 1000, transportUrl, positionDir: dir }));
  const exit = await p.exited;
  assert.equal(exit.code, 0, `producer of segment ${n} failed:\n${p.stderr().slice(-2000)}`);
}

/** Waits until bronze holds every reading of segments [0, to); returns the reconciliation. */
async function storedUpTo(to: number, timeoutMs: number) {
  let last: Awaited<ReturnType<typeof reconcile>> | undefined;
  await waitFor(
    async () => {
      if (worker?.proc.exitCode !== null) return true; // dead: the assertions below say so
      last = await reconcile(lakeUrl, 0, to, METERS).catch(() => undefined);
      return last !== undefined && last.missing === 0;
    },
    timeoutMs,
    3000,
  );
  return last;
}

/** `dfsadmin -safemode enter` as soon as the restarted NameNode's RPC takes it. */
async function holdSafemode(): Promise<void> {
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      await setSafemode(dir, 'enter');
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(1000);
    }
  }
}

describe('a stream worker across a NameNode restart held in safe mode', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-nnsafe-'));
    const up = await clusterUp({ dir, parts: ['kafka', 'hdfs'], portOffset: PORT_OFFSET, log });
    config = up.config;
    transportUrl = `kafka://${up.kafkaBootstrap}#ns=nnsafe.`;
    lakeUrl = `${up.webhdfsUrl.replace(/^http:/, 'webhdfs:')}/nnsafe?user=${config.hdfs.user}`;
  });

  after(async () => {
    if (worker && worker.proc.exitCode === null) {
      worker.proc.kill('SIGKILL');
      await worker.exited;
    }
    if (!dir) return;
    await setSafemode(dir, 'leave').catch(() => {});
    await clusterDown({ dir, parts: ['kafka', 'hdfs'], wipe: true, log });
    await rm(dir, { recursive: true, force: true });
  });

  it('pauses with the reason on stderr, resumes when safe mode ends, and stores every reading once', async () => {
    worker = startWorker({ group: 'nnsafe', transportUrl, lakeUrl });
    const alive = () => worker?.proc.exitCode === null && worker.proc.signalCode === null;
    const died = () =>
      `the worker exited (${worker?.proc.exitCode ?? worker?.proc.signalCode}):\n${worker?.stderr().slice(-3000)}`;

    await produce(0);
    const first = await storedUpTo(1, 180_000);
    assert.ok(alive(), died());
    assert.equal(first?.missing, 0, 'the worker stores segment 0 before the fault');

    // the NameNode dies while readings arrive (Kafka acknowledges them; the worker cannot commit)
    await killNode(dir, 'namenode');
    log('NameNode killed');
    await produce(1);
    await sleep(15_000);
    await startNode(dir, 'namenode', { log });
    await holdSafemode();
    log('NameNode restarted and held in safe mode');
    const mark = worker.stderr().length;
    await produce(2);
    // the worker waits: it must have met safe mode, and still be the same process
    const metSafeMode = await waitFor(
      () => !alive() || /is in safe mode/.test(worker?.stderr().slice(mark) ?? ''),
      120_000,
      1000,
    );
    assert.ok(metSafeMode && alive(), died());
    assert.ok((await nameNodeReport(config)).safemode, 'the NameNode was still in safe mode');
    await sleep(30_000);
    assert.ok(alive(), died());
    await setSafemode(dir, 'leave');
    log('safe mode left');

    await produce(3);
    const end = await storedUpTo(4, 300_000);
    assert.ok(alive(), died());
    assert.ok(end);
    assert.equal(end.acknowledged, 4 * METERS * 48);
    assert.equal(end.missing, 0, `missing: ${end.missing_ids.join(' ')}`);
    assert.equal(end.duplicated_bronze, 0);
    assert.equal(end.duplicated_silver, 0);

    // a clean stop still works after all that
    worker.proc.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0, worker.stderr().slice(-2000));
  });

  it('reads through a NameNode that left safe mode before its DataNodes reported: retried until they do', async () => {
    const url = `webhdfs://127.0.0.1:${config.hdfs.httpPort}/blocks?user=${config.hdfs.user}`;
    const lines: string[] = [];
    const store = withStoreRetries(openWebHdfs(url), { log: (l) => lines.push(l) });
    const raw = openWebHdfs(url);
    try {
      await store.put('f.json', new TextEncoder().encode('{"v":1}'));
      await killNode(dir, 'datanode-1');
      await killNode(dir, 'datanode-2');
      await killNode(dir, 'namenode');
      // a killed JVM may hold its ports for a moment after the signal
      await waitFor(
        async () =>
          !(await portOpen('127.0.0.1', config.hdfs.rpcPort)) &&
          !(await portOpen('127.0.0.1', config.hdfs.httpPort)),
        30_000,
      );
      await startNode(dir, 'namenode', { log });
      // safe mode ends while no DataNode has reported (here forced; by itself it ends at 99.9% of
      // the blocks reported, so a few may have no DataNode yet): the NameNode knows the file, not
      // where its block is, and answers 403 IOException "No active and not excluded nodes contain
      // this block" — a fatal INTERNAL error before this was classified
      const until = Date.now() + 120_000;
      for (;;) {
        try {
          await setSafemode(dir, 'leave');
          break;
        } catch (e) {
          if (Date.now() > until) throw e;
          await sleep(1000);
        }
      }
      let answer: unknown;
      await waitFor(
        async () => {
          answer = await raw.get('f.json').catch((e) => e);
          return /nodes contain this block/.test(String((answer as Error)?.message));
        },
        60_000,
        1000,
      );
      assert.ok(
        isLakestreamError(answer, 'UNAVAILABLE') && answer.retriable,
        `the answer: ${(answer as Error)?.message ?? answer}`,
      );
      const read = store.get('f.json');
      await sleep(3000);
      await startNode(dir, 'datanode-1', { log });
      assert.equal(new TextDecoder().decode(await read), '{"v":1}');
      assert.ok(
        lines.some((l) => /nodes contain this block/.test(l)),
        `the retries said why:\n${lines.join('\n')}`,
      );
    } finally {
      await store.close();
      await raw.close();
      // (a failure here must not hide the test's own)
      for (const n of ['namenode', 'datanode-1', 'datanode-2'] as const)
        await startNode(dir, n, { log }).catch((e) => log(`could not restart ${n}: ${e.message}`));
    }
  });
});
