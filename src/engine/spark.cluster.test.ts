// Spark, through Spark Connect on the local cluster, passes the shared conformance suite on a file: lake
// and on a lake in HDFS (the same files lakestream wrote through WebHDFS, read by Spark over hdfs://).

import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCluster, type TestCluster } from '../../test/helpers/cluster.ts';
import { copyLake, replayedLake } from '../../test/helpers/engine-lake.ts';
import { runEngineSuite } from './conformance.ts';
import { openEngine } from './index.ts';

const LONG = 'SELECT count(*) FROM range(0, 100000000000) a WHERE a.id * 7 % 13 = 3';

let cluster: Promise<TestCluster> | undefined;
const spark = () => (cluster ??= ensureCluster({ spark: true, hdfs: true }));
const engineUrl = async () => (await spark()).sparkConnectUrl.replace(/^sc:/, 'spark:');

/** A fresh lake directory in HDFS, with the RPC port Spark reads it through. */
async function hdfsLake(): Promise<string> {
  const c = await spark();
  const rpc = new URL(c.hdfsUrl).port;
  return `${c.webhdfsUrl}/lakestream-engine-${randomUUID().slice(0, 8)}?user=${c.hdfsUser}&rpc=${rpc}`;
}

runEngineSuite('spark on a file: lake', {
  open: async (lake) => openEngine(await engineUrl(), lake),
  emptyLake: async () => `file:${await mkdtemp(join(tmpdir(), 'lakestream-engine-'))}`,
  replayedLake: () => replayedLake(),
  longQuery: LONG,
});

runEngineSuite('spark on a lake in HDFS', {
  open: async (lake) => openEngine(await engineUrl(), lake),
  emptyLake: hdfsLake,
  replayedLake: async () => {
    const to = await hdfsLake();
    await copyLake(await replayedLake(), to);
    return to;
  },
  longQuery: LONG,
});
