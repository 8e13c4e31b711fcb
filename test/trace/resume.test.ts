// A trace replayed in two drained runs: tasks still running at the first drain are written as
// "open" lifecycles, and their events in the second run replace those rows (never a second row).

import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { Lake } from '../../src/lake/index.ts';
import { cli, freshEngines, requireData } from '../helpers/cli.ts';

describe('replaying a trace shard in two drained runs', () => {
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;
  let firstOpen = 0;
  const count = async (sql: string) => Number((await lake.query(sql)).rows[0].n);

  before(async () => {
    engines = await freshEngines();
    const src = requireData('cluster-trace/google-2011/task_events/part-00001-of-00500.csv.gz');
    const lines: string[] = [];
    const input = createReadStream(src).pipe(createGunzip());
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }))
      if (line) lines.push(line);
    await mkdir(join(engines.dir, 'task_events'));
    const half = Math.floor(lines.length / 2);
    const a = join(engines.dir, 'task_events', 'part-a.csv');
    const b = join(engines.dir, 'task_events', 'part-b.csv');
    await writeFile(a, `${lines.slice(0, half).join('\n')}\n`);
    await writeFile(b, `${lines.slice(half).join('\n')}\n`);
    await cli(['produce', '--source', 'google-2011', '--file', a, ...engines.produceFlags]);
    await cli(['stream', '--workload', 'cluster-trace', '--drain', '--quiet', ...engines.flags]);
    lake = await Lake.open(engines.lake);
    firstOpen = await count(
      "SELECT count(*)::BIGINT AS n FROM cluster_trace_silver_task_lifecycles WHERE outcome = 'open'",
    );
    await cli(['produce', '--source', 'google-2011', '--file', b, ...engines.produceFlags]);
    await cli(['stream', '--workload', 'cluster-trace', '--drain', '--quiet', ...engines.flags]);
  });
  after(async () => lake?.close());

  it('ends attempts left open by the first drain in place: one row per attempt, every event counted once', async () => {
    assert.ok(firstOpen > 1000, `${firstOpen} attempts open after the first half`);
    assert.equal(
      await count(`SELECT count(*)::BIGINT AS n FROM (SELECT job_id, task_index, first_time, count(*) AS c
        FROM cluster_trace_silver_task_lifecycles GROUP BY ALL HAVING c > 1)`),
      0,
    );
    assert.equal(
      await count('SELECT sum(n_events)::BIGINT AS n FROM cluster_trace_silver_task_lifecycles'),
      await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events'),
    );
    // attempts that were open at the first drain and ended in the second half
    const ended = await count(`SELECT count(*)::BIGINT AS n FROM cluster_trace_silver_task_lifecycles
      WHERE outcome <> 'open' AND submit_time IS NOT NULL AND end_time >= (
        SELECT min(time) FROM cluster_trace_bronze_task_events WHERE src LIKE 'part-b.csv:%')
      AND submit_time < (SELECT min(time) FROM cluster_trace_bronze_task_events WHERE src LIKE 'part-b.csv:%')`);
    assert.ok(ended > 100, `${ended} attempts spanning both runs ended in the second`);
  });

  it('still gives every SUBMIT exactly one class row across both runs', async () => {
    assert.equal(
      await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_gold_task_classes'),
      await count('SELECT count(*)::BIGINT AS n FROM cluster_trace_bronze_task_events WHERE event_type = 0'),
    );
  });
});
