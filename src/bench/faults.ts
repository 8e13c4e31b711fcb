// The faults of the resilience and soak runs: a plain array of fault objects, each injecting one fault
// on the local cluster and undoing it (a killed node restarted, a paused one continued).

import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { killNode, startNode } from '../cluster/cluster.ts';
import type { KafkaNode, NodeName } from '../cluster/config.ts';
import { alivePid } from '../cluster/processes.ts';
import { log, sleep, waitFor } from './progress.ts';
import type { Rig, StorageFault } from './rig.ts';

export interface FaultContext {
  rig: Rig;
  /** seconds a killed node stays down */
  downS: number;
  /** seconds a paused node stays stopped: past the brokers' (9 s) and the group's (10 s) session timeouts */
  pauseS: number;
  /** marks the node down (killed or stopped) */
  down: (what: string) => void;
  /** marks it back (restarted and healthy, or continued): recovery is counted from here */
  up: (what: string) => void;
  /**
   * While these brokers are down: measures what the cluster still guarantees (in-sync replicas, an
   * acks=all probe); the fault keeps them down until it is done. Unset when the run does not measure it.
   */
  whileDown?: (brokers: KafkaNode[]) => Promise<void>;
}

export interface Fault {
  name: string;
  /** what it hits, for the report */
  target: string;
  /** injects the fault and undoes it; returns once the node is back */
  inject: (ctx: FaultContext) => Promise<void>;
  /** after the run recovered: undoes what the fault added (a second worker) */
  settle?: (ctx: FaultContext) => Promise<void>;
}

const cluster = (l: string) => log(`[cluster] ${l}`);

const isBroker = (n: NodeName): n is KafkaNode => n.startsWith('broker-');

/** Waits `ms`, and for the measurement of the brokers among `nodes` if the run takes one: a node stays down for both. */
async function stayDown(ctx: FaultContext, nodes: NodeName[], ms: number): Promise<void> {
  const brokers = nodes.filter(isBroker);
  await Promise.all([sleep(ms), brokers.length > 0 ? ctx.whileDown?.(brokers) : undefined]);
}

/** SIGKILL some nodes, leave them down, start them again. */
function killNodes(name: string, nodes: NodeName[]): Fault {
  const target = nodes.join(' + ');
  return {
    name,
    target: `${target} (SIGKILL)`,
    async inject(ctx) {
      ctx.down(target);
      for (const n of nodes) await killNode(ctx.rig.clusterDir, n);
      await stayDown(ctx, nodes, ctx.downS * 1000);
      for (const n of nodes) await startNode(ctx.rig.clusterDir, n, { log: cluster });
      ctx.up(target);
    },
  };
}

/** SIGSTOP a node for pauseS, then SIGCONT: a paused node, alive to the OS, silent to its peers. */
function pauseNode(name: string, node: NodeName): Fault {
  return {
    name,
    target: `${node} (SIGSTOP past its session timeout, then SIGCONT)`,
    async inject(ctx) {
      const pid = alivePid(ctx.rig.clusterDir, node);
      if (pid === undefined) throw new Error(`${node} is not running`);
      ctx.rig.paused.add(pid);
      process.kill(pid, 'SIGSTOP');
      ctx.down(node);
      await stayDown(ctx, [node], ctx.pauseS * 1000);
      process.kill(pid, 'SIGCONT');
      ctx.rig.paused.delete(pid);
      ctx.up(node);
    },
  };
}

/** The worker's lake store full (every write ENOSPC) or slow (200 ms a call) for as long as a node stays down. */
function storageFault(name: string, fault: StorageFault, target: string): Fault {
  return {
    name,
    target,
    async inject(ctx) {
      const flag = ctx.rig.storageFlag(fault);
      ctx.down('lake storage');
      await writeFile(flag, '');
      await sleep(ctx.downS * 1000);
      await rm(flag, { force: true });
      ctx.up('lake storage');
    },
  };
}

export const FAULTS: Fault[] = [
  killNodes('broker', ['broker-1']),
  killNodes('controller', ['controller']),
  // both of 2 brokers; of 3, two — the most that can die with one left (broker-3), which then holds
  // every partition alone: with min.insync.replicas 2 it must refuse acks=all writes
  killNodes('brokers', ['broker-1', 'broker-2']),
  pauseNode('broker-pause', 'broker-2'),
  {
    name: 'worker',
    target: 'stream worker (SIGKILL)',
    async inject(ctx) {
      const w = ctx.rig.workers;
      ctx.down('stream worker');
      await w.stop(w.main, 'SIGKILL');
      await sleep(ctx.downS * 1000);
      w.start();
      ctx.up('stream worker');
    },
  },
  {
    // a second member takes the paused worker's partitions; continued, the zombie must lose its batch
    name: 'worker-pause',
    target: 'stream worker (SIGSTOP past the group session timeout, SIGCONT), a second worker in the group',
    async inject(ctx) {
      const w = ctx.rig.workers;
      const zombie = w.main;
      const second = w.start();
      // the group shares the partitions between both before the pause (the second one reads some)
      const log2 = w.logs[w.logs.length - 1];
      await waitFor(() => existsSync(log2) || second.proc.exitCode !== null, 60_000, 500);
      const pid = zombie.proc.pid as number;
      ctx.rig.paused.add(pid);
      process.kill(pid, 'SIGSTOP');
      ctx.down('stream worker');
      await sleep(ctx.pauseS * 1000);
      process.kill(pid, 'SIGCONT');
      ctx.rig.paused.delete(pid);
      ctx.up('stream worker');
    },
    async settle(ctx) {
      const w = ctx.rig.workers;
      const second = w.list[1];
      if (second) await w.stop(second, 'SIGTERM');
    },
  },
  killNodes('datanode', ['datanode-1']),
  killNodes('namenode', ['namenode']),
  {
    name: 'producer',
    target: 'producer (SIGKILL; restarted with the same command, it resumes)',
    async inject(ctx) {
      const p = ctx.rig.producer;
      await waitFor(() => p.current !== undefined, 30_000, 100);
      await sleep(2000); // mid-segment
      p.hold();
      ctx.down('producer');
      p.current?.proc.kill('SIGKILL');
      await sleep(ctx.downS * 1000);
      p.resumeNow();
      ctx.up('producer');
    },
  },
  storageFault('storage-full', 'full', 'lake storage full (every write fails with ENOSPC)'),
  storageFault('slow-storage', 'slow', 'lake storage slow (200 ms added to every call)'),
];
