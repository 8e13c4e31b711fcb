// Where a bench run happens: a fresh namespace and lake directory on the local cluster, or fresh
// embedded engines; its consumer group and time stamp; removing what it left on the cluster.

import { join } from 'node:path';
import { ROOT } from './processes.ts';
import { log } from './progress.ts';

/**
 * A consumer group of its own per run (the run's `#ns=` namespace prefixes it as well), named after
 * the run, so `kafka-consumer-groups --list` tells which run a group belongs to.
 */
export function benchGroup(id: string): string {
  return `lakestream-bench-${id}`;
}

/** A UTC timestamp that sorts and names a directory: 20261122T031500Z. */
export function stamp(d = new Date()): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export type EnginesKind = 'cluster' | 'embedded';

/** Where a scenario runs: a fresh namespace and lake directory on the local cluster, or fresh embedded engines. */
export interface Engines {
  kind: EnginesKind;
  transportUrl: string;
  lakeUrl: string;
  /** the run's consumer group (benchGroup) */
  group: string;
  /** cluster directory, for killNode/startNode and process ids */
  clusterDir?: string;
  cleanup: () => Promise<void>;
}

export async function openEngines(
  kind: EnginesKind,
  scenario: string,
  started: Date,
  opts: { keep?: boolean } = {},
): Promise<Engines> {
  const id = `${scenario}-${stamp(started).toLowerCase()}`;
  if (kind === 'embedded') {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), `lakestream-bench-${scenario}-`));
    return {
      kind,
      group: benchGroup(id),
      transportUrl: `embedded:${join(dir, 'log')}`,
      lakeUrl: `file:${join(dir, 'lake')}`,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const { clusterUp } = await import('../cluster/cluster.ts');
  const clusterDir = process.env.LAKESTREAM_CLUSTER_DIR ?? join(ROOT, '.lakestream/cluster');
  const { portOffsetFromEnv } = await import('./processes.ts');
  const up = await clusterUp({
    dir: clusterDir,
    portOffset: portOffsetFromEnv(),
    log: (l) => log(`[cluster] ${l}`),
  });
  // a fresh topic namespace and lake directory per run: runs on the shared cluster never mix
  const transportUrl = `kafka://${up.kafkaBootstrap}#ns=bench-${id}.`;
  const lakeUrl = `${up.webhdfsUrl.replace(/^http:/, 'webhdfs:')}/lakestream-bench/${id}?user=${up.config.hdfs.user}`;
  return {
    kind,
    group: benchGroup(id),
    transportUrl,
    lakeUrl,
    clusterDir: up.config.dir,
    cleanup: () => cleanupRun(transportUrl, lakeUrl, opts.keep),
  };
}

/** Removes a run's topics and lake from the cluster, or says where they are kept (--keep). */
export async function cleanupRun(transportUrl: string, lakeUrl: string, keep?: boolean): Promise<void> {
  if (keep) {
    log(`kept (--keep): the topics of ${transportUrl} and the lake ${lakeUrl}`);
    return;
  }
  const { removeBenchRun } = await import('./leftovers.ts');
  const removed = await removeBenchRun(transportUrl, lakeUrl).catch((e) => {
    log(`could not remove the run's topics and lake: ${e instanceof Error ? e.message : e}`);
    return [];
  });
  if (removed.length > 0) log(`removed ${removed.join(' and ')} (--keep keeps them)`);
}
