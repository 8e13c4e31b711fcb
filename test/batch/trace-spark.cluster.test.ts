// The trace's batch view on Spark: computed and written by Spark over Spark Connect, its task lifecycles
// are the rows DuckDB computes on the same lake, and it finds the same differences with the stream's.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { assertTraceViewScheduled } from '../helpers/batch-lake.ts';
import { cli } from '../helpers/cli.ts';
import { ensureCluster } from '../helpers/cluster.ts';
import { CORNER_JOB, type TraceLake, traceLake } from '../helpers/trace-lake.ts';

async function lifecycles(lake: string): Promise<unknown[]> {
  const l = await Lake.open(lake);
  try {
    return (
      await l.query('SELECT * FROM cluster_trace_batch_task_lifecycles ORDER BY ALL', { maxRows: 10_000_000 })
    ).rows;
  } finally {
    await l.close();
  }
}

describe('lakestream batch --workload cluster-trace on Spark', { timeout: 1_800_000 }, () => {
  let l: TraceLake;
  let spark: string;
  before(async () => {
    const c = await ensureCluster({ spark: true, hdfs: true });
    spark = c.sparkConnectUrl.replace(/^sc:/, 'spark:');
    l = await traceLake();
    // a difference for both engines to find
    await l.sharedKeyAttempts();
  });
  after(async () => {
    if (l) await rm(l.dir, { recursive: true, force: true });
  });

  it('writes the same task lifecycles as DuckDB on the same lake, and finds the same differences', async () => {
    const batch = async (...engine: string[]) =>
      JSON.parse(
        (await cli(['batch', '--workload', 'cluster-trace', '--json', ...engine, '--lake', l.lake])).stdout,
      );
    const duck = await batch();
    const byDuck = await lifecycles(l.lake);
    assert.ok(byDuck.length > 30_000, `${byDuck.length} attempts`);
    const onSpark = await batch('--engine', spark);
    assert.equal(onSpark.view.engine, 'spark');
    assert.equal(onSpark.view.run, duck.view.run + 1);
    // Spark committed a new version of the table: its rows, not DuckDB's left in place
    const path = 'cluster-trace/batch/task_lifecycles';
    assert.ok(onSpark.view.tables[path] > duck.view.tables[path]);
    assert.deepEqual(await lifecycles(l.lake), byDuck);
    assert.deepEqual(onSpark.differences, duck.differences);
    assert.deepEqual(
      onSpark.differences.task_lifecycles.map((d: { task: string; change: string }) => [d.task, d.change]),
      [
        [`${CORNER_JOB}/5`, 'changed'],
        [`${CORNER_JOB}/5`, 'not-in-stream'],
      ],
    );
    assert.equal(onSpark.view.mark, duck.view.mark);
  });

  it('stream --workload cluster-trace --batch-every with --engine spark runs the trace view on Spark beside the worker', async () => {
    const lake = await Lake.open(l.lake);
    try {
      await assertTraceViewScheduled(lake, ['--engine', spark, ...l.flags], 'spark', 900_000);
    } finally {
      await lake.close();
    }
  });
});
