// What a fault run restores when it closes: the nodes of ITS cluster that are down — a 2-broker
// cluster must not get a broker-3 started (an earlier Rig.close started every Kafka node there is).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { resolveConfig, saveConfig } from '../cluster/config.ts';
import { nodesToRestore } from './rig.ts';

it('restores the Kafka nodes the cluster has (broker-3 only with 3 brokers) and HDFS, never Spark', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-rig-'));
  try {
    assert.deepEqual(nodesToRestore(dir), [], 'no cluster, nothing to restore');
    // nothing runs in a fresh directory: every node of the cluster is down
    await saveConfig(resolveConfig({ dir, portOffset: 1900, brokers: 2 }));
    assert.deepEqual(nodesToRestore(dir), [
      'controller',
      'broker-1',
      'broker-2',
      'namenode',
      'datanode-1',
      'datanode-2',
    ]);
    await saveConfig(resolveConfig({ dir, portOffset: 1900, brokers: 3 }));
    assert.deepEqual(nodesToRestore(dir), [
      'controller',
      'broker-1',
      'broker-2',
      'broker-3',
      'namenode',
      'datanode-1',
      'datanode-2',
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
