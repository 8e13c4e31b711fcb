// Issue 8 acceptance: the Google 2011 trace (task_events and job_events parts 0 and 1, the
// machine_events table, the task_usage sample, and a shard with malformed rows) through
// train --model task-gmm → produce --source google-2011 → stream --workload cluster-trace --drain.

import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { Lake } from '../../src/lake/index.ts';
import { cli, freshEngines, requireData } from '../helpers/cli.ts';

const TRACE = 'cluster-trace/google-2011';

/** Lines of a (gzipped) file, without a header line. */
async function countRows(file: string, header: boolean): Promise<number> {
  const input = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }))
    if (line !== '') n++;
  return header ? n - 1 : n;
}

/** A task_events shard with three bad rows among good ones (lines 2, 3 and 5). */
const MALFORMED = [
  '10000000000,,9999001,0,,0,user,1,2,0.01,0.02,0.0001,0',
  '10000000001,,9999001,0,,1,user,1,2,0.01,0.02',
  '10000000002,,9999001,zero,,1,user,1,2,0.01,0.02,0.0001,0',
  '10000000003,,9999001,0,77,1,user,1,2,0.01,0.02,0.0001,0',
  '10000000004,,9999002,0,,0,user,1,,0.01,0.02,0.0001,0',
  '10000000005,,9999001,0,77,4,user,1,2,0.01,0.02,0.0001,0',
].join('\n');

describe('replaying the Google 2011 trace through the lambda architecture', () => {
  const files = {
    task_events: [
      requireData(`${TRACE}/task_events/part-00000-of-00500.csv.gz`),
      requireData(`${TRACE}/task_events/part-00001-of-00500.csv.gz`),
    ],
    job_events: [
      requireData(`${TRACE}/job_events/part-00000-of-00500.csv.gz`),
      requireData(`${TRACE}/job_events/part-00001-of-00500.csv.gz`),
    ],
    machine_events: [requireData(`${TRACE}/machine_events_with_header.csv.gz`)],
    task_usage: [requireData(`${TRACE}/task_usage_sample_with_header.csv.gz`)],
  };
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;
  let bad: string;
  let trainOut: string;
  const count = async (sql: string) => Number((await lake.query(sql)).rows[0].n);

  before(async () => {
    engines = await freshEngines();
    await mkdir(join(engines.dir, 'task_events'));
    bad = join(engines.dir, 'task_events', 'part-99999-of-00500.csv');
    await writeFile(bad, `${MALFORMED}\n`);
    // the speed layer classifies with the model registered before the stream starts
    trainOut = (
      await cli([
        'train',
        '--model',
        'task-gmm',
        '--k',
        '2-3',
        '--data',
        files.task_events[1],
        files.machine_events[0],
        '--lake',
        engines.lake,
      ])
    ).stdout;
    const all = [...Object.values(files).flat(), bad].flatMap((f) => ['--file', f]);
    await cli(['produce', '--source', 'google-2011', ...all, ...engines.produceFlags]);
    await cli(['stream', '--workload', 'cluster-trace', '--drain', '--quiet', ...engines.flags]);
    lake = await Lake.open(engines.lake);
  });
  after(async () => lake?.close());

  it('registers the task GMM as task-gmm v1 with its means, covariances, weights and BIC', async () => {
    assert.match(trainOut, /registered task-gmm v1/);
    const model = JSON.parse(await readFile(join(engines.dir, 'lake/models/task-gmm/v1/model.json'), 'utf8'));
    const k = model.gmm.k;
    assert.ok(k >= 2 && k <= 3);
    assert.equal(model.gmm.weights.length, k);
    assert.equal(model.gmm.means.length, k);
    assert.equal(model.gmm.covariances[0].length, 3);
    assert.ok(Number.isFinite(model.bic));
    assert.equal(model.bicByK.length, 2);
    assert.ok(model.bicByK.every((b: { bic: number }) => b.bic >= model.bic));
  });

  it('lands every row of every replayed file in its bronze table', async () => {
    const expected = {
      task_events:
        (await countRows(files.task_events[0], false)) + (await countRows(files.task_events[1], false)) + 3,
      job_events:
        (await countRows(files.job_events[0], false)) + (await countRows(files.job_events[1], false)),
      machine_events: await countRows(files.machine_events[0], true),
      task_usage: await countRows(files.task_usage[0], true),
    };
    assert.ok(expected.task_events > 527_000);
    for (const [table, n] of Object.entries(expected))
      assert.equal(await count(`SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_${table}`), n, table);
  });

  it('partitions bronze by trace hour', async () => {
    const r = await lake.query(
      'SELECT hour, min(time) AS lo, max(time) AS hi FROM cluster_trace_bronze_task_events GROUP BY hour ORDER BY hour',
    );
    assert.ok(r.rows.length >= 3);
    for (const row of r.rows) {
      assert.ok(Number(row.lo) >= Number(row.hour) * 3.6e9);
      assert.ok(Number(row.hi) < (Number(row.hour) + 1) * 3.6e9);
    }
  });

  it('quarantines malformed rows with their reason, file and line', async () => {
    const r = await lake.query(
      'SELECT reason, src, detail FROM cluster_trace_quarantine_events ORDER BY src',
    );
    assert.deepEqual(
      r.rows.map((x) => [x.reason, x.src]),
      [
        ['column-count', 'part-99999-of-00500.csv:2'],
        ['bad-field', 'part-99999-of-00500.csv:3'],
        ['missing-field', 'part-99999-of-00500.csv:5'],
      ],
    );
    assert.match(String(r.rows[1].detail), /field 4 \(task index\) should be an integer, is "zero"/);
    const dir = join(engines.dir, 'lake', '_status', 'workers');
    const s = JSON.parse(await readFile(join(dir, (await readdir(dir))[0]), 'utf8'));
    assert.equal(s.read, s.accepted + s.quarantined + s.duplicates);
    assert.equal(s.quarantined, 3);
  });

  it('folds every task event into exactly one task lifecycle, ending attempts by their terminal events', async () => {
    const bronze = await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events');
    assert.equal(
      await count('SELECT sum(n_events)::BIGINT AS n FROM cluster_trace_silver_task_lifecycles'),
      bronze,
    );
    const ends = await lake.query(`
      SELECT e.name, e.n AS events, coalesce(l.n, 0) AS lifecycles FROM
        (SELECT CASE event_type WHEN 2 THEN 'EVICT' WHEN 3 THEN 'FAIL' WHEN 4 THEN 'FINISH' WHEN 5 THEN 'KILL' ELSE 'LOST' END AS name,
                count(*) AS n FROM cluster_trace_bronze_task_events WHERE event_type BETWEEN 2 AND 6 GROUP BY 1) e
        LEFT JOIN (SELECT outcome AS name, count(*) AS n FROM cluster_trace_silver_task_lifecycles GROUP BY 1) l USING (name)`);
    assert.ok(ends.rows.length >= 4, 'EVICT, FAIL, FINISH and KILL all occur in these shards');
    for (const row of ends.rows) assert.equal(Number(row.lifecycles), Number(row.events), String(row.name));
    // one row per attempt key, at most one open attempt per task, and every SUBMIT starts an attempt
    assert.equal(
      await count(`SELECT count(*)::BIGINT AS n FROM (SELECT job_id, task_index, first_time, count(*) AS c
        FROM cluster_trace_silver_task_lifecycles GROUP BY ALL HAVING c > 1)`),
      0,
    );
    assert.equal(
      await count(`SELECT count(*)::BIGINT AS n FROM (SELECT job_id, task_index, count(*) AS c
        FROM cluster_trace_silver_task_lifecycles WHERE outcome = 'open' GROUP BY ALL HAVING c > 1)`),
      0,
    );
    assert.equal(
      await count(
        'SELECT count(*)::BIGINT AS n FROM cluster_trace_silver_task_lifecycles WHERE submit_time IS NOT NULL',
      ),
      await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events WHERE event_type = 0'),
    );
    // durations follow the events: the planted task waited 3 µs and ran 2 µs
    const planted = await lake.query(
      'SELECT outcome, wait_s, run_s, total_s, machine_id FROM cluster_trace_silver_task_lifecycles WHERE job_id = 9999001',
    );
    assert.deepEqual(planted.rows, [
      { outcome: 'FINISH', wait_s: 3e-6, run_s: 2e-6, total_s: 5e-6, machine_id: 77 },
    ]);
  });

  it('gives every SUBMIT exactly one class row, classified by the registered model', async () => {
    const submits = await count(
      'SELECT count(*)::BIGINT AS n FROM (SELECT DISTINCT job_id, task_index, time FROM cluster_trace_bronze_task_events WHERE event_type = 0)',
    );
    assert.ok(submits > 200_000);
    assert.equal(await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_gold_task_classes'), submits);
    assert.equal(
      await count(`SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events e
        ANTI JOIN cluster_trace_gold_task_classes c
        ON c.job_id = e.job_id AND c.task_index = e.task_index AND c.submit_time = e.time WHERE e.event_type = 0`),
      0,
    );
    const r =
      await lake.query(`SELECT min(class) AS lo, max(class) AS hi, min(probability) AS pmin, max(probability) AS pmax,
      min(model_version) AS v, count(DISTINCT placement_hint) AS hints FROM cluster_trace_gold_task_classes`);
    const row = r.rows[0];
    assert.equal(row.lo, 0);
    assert.ok(Number(row.hi) >= 1);
    assert.ok(Number(row.pmin) > 0 && Number(row.pmax) <= 1 + 1e-12);
    assert.equal(row.v, 1);
    assert.ok(Number(row.hints) >= 1);
  });

  it('keeps per-minute class windows whose totals equal the events', async () => {
    const w = await lake.query(
      'SELECT sum(arrivals)::BIGINT AS arrivals, sum(finished)::BIGINT AS finished, sum(failed)::BIGINT AS failed FROM cluster_trace_gold_class_windows',
    );
    assert.equal(
      Number(w.rows[0].arrivals),
      await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events WHERE event_type = 0'),
    );
    assert.equal(
      Number(w.rows[0].finished),
      await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events WHERE event_type = 4'),
    );
    assert.equal(
      Number(w.rows[0].failed),
      await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events WHERE event_type = 3'),
    );
  });

  it("tracks the cluster's capacity: the sum of changes equals the capacity of the machines still in", async () => {
    const r = await lake.query(`SELECT
      (SELECT sum(delta_cpus) FROM cluster_trace_silver_machine_capacity) AS total,
      (SELECT sum(cpus) FROM (SELECT arg_max(cpus, time) AS cpus, arg_max(event, time) AS ev
         FROM cluster_trace_silver_machine_capacity GROUP BY machine_id) WHERE ev <> 'REMOVE') AS live`);
    assert.ok(Math.abs(Number(r.rows[0].total) - Number(r.rows[0].live)) < 1e-6);
    assert.ok(Number(r.rows[0].total) > 5000);
  });
});
