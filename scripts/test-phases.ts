// Which test files need the local Kafka + HDFS + Spark cluster: those named *.cluster.test.ts. The
// runner (scripts/test.ts) runs them alone, after the rest; test/dev/cluster-tests.test.ts fails
// when a test file that starts the cluster is not named so.

export const CLUSTER_TEST_SUFFIX = '.cluster.test.ts';

/** A test file of the cluster phase, by its name. */
export function isClusterTest(file: string): boolean {
  return file.endsWith(CLUSTER_TEST_SUFFIX);
}

/**
 * A test source that starts JVMs: the shared test cluster (ensureCluster), a cluster of its own
 * (clusterUp, privateKafkaCluster, `lakestream cluster up`). Only the check of the names reads sources.
 */
export function startsCluster(source: string): boolean {
  return /\bensureCluster\(|\bclusterUp\(|\bprivateKafkaCluster\(|'cluster', 'up'/.test(source);
}
