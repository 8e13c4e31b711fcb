// What a benchmark leaves behind, and taking it away: the topics of its namespace and its lake
// directory on the cluster, and the local cluster itself when the benchmark started it.

import { ALL_NODES, type NodeName } from '../cluster/config.ts';
import { alivePid } from '../cluster/processes.ts';

/** The cluster's nodes running now from `dir`. */
export function runningNodes(dir: string): NodeName[] {
  return ALL_NODES.filter((n) => alivePid(dir, n) !== undefined);
}

/**
 * Deletes a run's topics (`kafka://…#ns=PREFIX`: every topic named PREFIX…) and its lake directory
 * (a webhdfs:// or file: URL). Returns what was removed, for the log.
 */
export async function removeBenchRun(transportUrl: string, lakeUrl: string): Promise<string[]> {
  const removed: string[] = [];
  const ns = /^(kafka:\/\/[^#]+)#ns=([A-Za-z0-9._-]+)$/.exec(transportUrl);
  if (ns) {
    const { KafkaAdmin } = await import('../transport/kafka/index.ts');
    const { parseKafkaUrl } = await import('../transport/kafka/index.ts');
    const admin = new KafkaAdmin(parseKafkaUrl(ns[1]));
    try {
      const topics = (await admin.listTopics()).map((t) => t.name).filter((n) => n.startsWith(ns[2]));
      if (topics.length > 0) await admin.client.deleteTopics({ topics });
      removed.push(`${topics.length} topics ${ns[2]}*`);
    } finally {
      await admin.close();
    }
  }
  if (lakeUrl.startsWith('webhdfs://')) {
    const { openWebHdfs } = await import('../storage/webhdfs/index.ts');
    const store = openWebHdfs(lakeUrl);
    try {
      await store.client.delete(new URL(lakeUrl).pathname, true);
      removed.push(`lake ${new URL(lakeUrl).pathname}`);
    } finally {
      await store.close();
    }
  }
  return removed;
}
