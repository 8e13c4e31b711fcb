// The trace's batch view on DuckDB: the task lifecycles recomputed from bronze task_events equal the
// stream's after a real shard replayed in two drained runs, corner cases of the fold included; and the
// one case the stream keeps differently — two attempts sharing a key, one left open at a drain — is named.

import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { latestView, TRACE_VIEW_DIR } from '../../src/batch/view.ts';
import { Lake } from '../../src/lake/index.ts';
import type { ClusterTraceView } from '../../src/serve/data/cluster-trace.ts';
import { startServer } from '../../src/serve/server.ts';
import { assertTraceViewScheduled } from '../helpers/batch-lake.ts';
import { cli, freshEngines, runCli } from '../helpers/cli.ts';
import { CORNER_JOB, type TraceLake, traceLake } from '../helpers/trace-lake.ts';

interface DiffRow {
  task: string;
  key: string;
  change: string;
  columns: string[];
  batch_value: string | null;
  stream_value: string | null;
}

async function batch(lake: string) {
  const r = await cli(['batch', '--workload', 'cluster-trace', '--json', '--lake', lake]);
  return JSON.parse(r.stdout) as {
    workload: string;
    view: { run: number; mark: string; tables: Record<string, number> };
    rows: Record<string, number>;
    differences: Record<string, DiffRow[]>;
  };
}

describe('lakestream batch --workload cluster-trace on DuckDB', () => {
  let l: TraceLake;
  let lake: Lake;
  const rows = async (sql: string) => (await lake.query(sql, { maxRows: 1_000_000 })).rows;
  const count = async (sql: string) => Number((await rows(sql))[0].n);
  before(async () => {
    l = await traceLake();
    lake = await Lake.open(l.lake);
  });
  after(async () => {
    await lake?.close();
    if (l) await rm(l.dir, { recursive: true, force: true });
  });

  it("finds no difference with the stream's task lifecycles after a clean replay in two drained runs", async () => {
    const r = await batch(l.lake);
    assert.equal(r.workload, 'cluster-trace');
    assert.deepEqual(r.differences, { task_lifecycles: [] });
    const stream = await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_silver_task_lifecycles');
    assert.equal(r.rows.task_lifecycles, stream);
    assert.ok(stream > 30_000, `${stream} attempts`);
    // every task event folded into one batch attempt, as in the stream's table
    assert.equal(
      await count('SELECT sum(n_events)::BIGINT AS n FROM cluster_trace_batch_task_lifecycles'),
      await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events'),
    );
    assert.equal(
      r.view.mark,
      String(await count('SELECT max(time) AS n FROM cluster_trace_bronze_task_events')),
    );
    assert.deepEqual(r.view.tables, { 'cluster-trace/batch/task_lifecycles': 1 });
    // the real shard leaves attempts running at its end: open in both tables
    assert.ok(
      (await count(
        "SELECT count(*)::BIGINT AS n FROM cluster_trace_batch_task_lifecycles WHERE outcome = 'open'",
      )) > 1000,
    );
  });

  it('folds the corner cases as the stream does: repeats, no SUBMIT, superseded, machines, updates', async () => {
    const got = await rows(`SELECT task_index, first_time, submit_time, schedule_time, end_time, outcome,
        machine_id, cpu_request, n_events FROM cluster_trace_batch_task_lifecycles
      WHERE job_id = ${CORNER_JOB} ORDER BY task_index, first_time, outcome`);
    assert.deepEqual(
      got.map((r) => Object.values(r).map((v) => (typeof v === 'bigint' ? Number(v) : v))),
      [
        [0, 100, 100, 200, 300, 'FINISH', 7, 0.5, 5],
        [1, 110, null, 110, 120, 'FAIL', 8, 0.1, 2],
        [2, 100, 100, 150, null, 'superseded', null, 0.1, 2],
        [2, 160, 160, 170, 180, 'KILL', 9, 0.2, 3],
        [3, 100, 100, 110, 120, 'EVICT', 11, 0.1, 3],
        [4, 100, 100, null, null, 'open', null, 0.1, 3],
        [6, 100, 100, null, null, 'open', null, 0.1, 2],
      ],
    );
  });

  it('run again, publishes run 2 of the same rows', async () => {
    const all = 'SELECT * FROM cluster_trace_batch_task_lifecycles ORDER BY ALL';
    const first = await rows(all);
    const r = await batch(l.lake);
    assert.equal(r.view.run, 2);
    assert.deepEqual(await rows(all), first);
  });

  it('names the case the stream keeps differently: two attempts sharing a key, the open one ended in a later run', async () => {
    // the stream rewrites an open attempt by its key (job, task, first_time) at each drain and when it
    // ends, so the FAIL sharing that key is replaced too; the batch view keeps the FAIL and the FINISH
    await l.sharedKeyAttempts();
    const r = await batch(l.lake);
    assert.deepEqual(
      r.differences.task_lifecycles.map((d) => [d.task, d.key, d.change, d.batch_value, d.stream_value]),
      [
        [`${CORNER_JOB}/5`, '100', 'changed', 'FAIL', 'FINISH'],
        [`${CORNER_JOB}/5`, '100', 'not-in-stream', 'FINISH', null],
      ],
    );
  });
  it('stream --workload cluster-trace --batch-every runs the trace view beside the worker, and stops with it', async () => {
    await assertTraceViewScheduled(lake, l.flags, 'duckdb');
  });
  it("the API reads the attempts the batch view closed from it, and the others (open at its mark, or later) from the stream's", async () => {
    const server = await startServer({ port: 0, lake: l.lake, transport: l.flags[1], log: () => {} });
    try {
      const view = (await latestView(lake.store, TRACE_VIEW_DIR))!;
      const get = async () => {
        const res = await fetch(`${server.url}/api/cluster-trace?points=0`);
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        return body as ClusterTraceView;
      };
      const n = (table: string, where = '1 = 1') =>
        count(`SELECT count(*)::BIGINT AS n FROM ${table} WHERE ${where}`);
      const stream = await n('cluster_trace_silver_task_lifecycles');
      const batch = await n('cluster_trace_batch_task_lifecycles');
      const open = await n('cluster_trace_silver_task_lifecycles', "outcome = 'open'");
      // the one difference: the batch view keeps task 5's FAIL, which the stream replaced by its FINISH
      assert.equal(batch, stream + 1);
      const source = {
        tables: 'batch+stream',
        batch_run: view.run,
        batch_table: 'cluster-trace/batch/task_lifecycles',
        stream_table: 'cluster-trace/silver/task_lifecycles',
        batch_until: Number(view.mark),
      };
      const merged = await get();
      assert.deepEqual(merged.source, source);
      assert.equal(merged.totals.lifecycles, batch, 'the FAIL only the batch view has is served');
      assert.equal(merged.totals.open, open);
      // a task submitted after the mark: only the stream has it, and it is served
      await l.replay('part-e.csv', [`${Number(view.mark) + 1000},,9999102,0,,0,u,1,2,0.1,0.2,0.01,0`]);
      let later = await get();
      for (let i = 0; i < 60 && later.totals.lifecycles === batch; i++) {
        await new Promise((r) => setTimeout(r, 250));
        later = await get();
      }
      assert.deepEqual(later.source, source);
      assert.equal(later.totals.lifecycles, batch + 1);
      assert.equal(later.totals.open, open + 1);
    } finally {
      await server.close();
    }
  });
});

describe('lakestream batch --workload cluster-trace refuses', () => {
  it('--from and --to, and a lake without the trace, each in one line', async () => {
    const e = await freshEngines();
    try {
      const range = await runCli(['batch', '--workload', 'cluster-trace', '--from', '2013-01-01']);
      assert.equal(range.code, 2, range.stderr);
      assert.match(range.stderr, /--from and --to bound the meters' days/);
      await mkdir(join(e.dir, 'lake'));
      const r = await runCli(['batch', '--workload', 'cluster-trace', '--lake', e.lake]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(
        r.stderr,
        /no cluster-trace\/bronze\/task_events table in .*: the batch view recomputes from bronze/,
      );
    } finally {
      await rm(e.dir, { recursive: true, force: true });
    }
  });
});
