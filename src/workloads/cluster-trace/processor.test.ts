import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRACE_LAKE_TABLES as T } from '../../domain/cluster-trace/tables.ts';
import type { TaskClassifier } from '../../models/task-gmm/model.ts';
import { UNCLASSIFIED } from '../../models/task-gmm/model.ts';
import { BatchOutputs } from '../../stream/outputs.ts';
import type { Message } from '../../transport/index.ts';
import { DEFAULT_TRACE_CONFIG, TraceProcessor } from './processor.ts';
import { traceStateFromJSON, traceStateToJSON } from './state.ts';

let offset = 0;
function msg(table: string, row: string, line = offset + 1): Message {
  const value = new TextEncoder().encode(
    JSON.stringify({ v: 1, table, src: `part-00000.csv.gz:${line}`, row }),
  );
  return { topic: 'trace.events', partition: 0, offset: offset++, key: null, value, timestamp: 0 };
}

/** task_events row: time, job, task, machine, event type, cpu request. */
const te = (t: number, job: number, task: number, machine: string, type: number, cpu = '0.1') =>
  `${t},,${job},${task},${machine},${type},u,1,2,${cpu},0.2,0.001,0`;

/** A classifier splitting at cpu 0.25: class 1 above, class 0 below. */
const SPLIT: TaskClassifier = {
  version: 7,
  classify: (t) => ({
    cls: (t.cpu_request ?? 0) > 0.25 ? 1 : 0,
    probability: 0.9,
    imputed: t.cpu_request === null,
    hint: 'cpu 0.5 / mem 0.5 (1 machines)',
  }),
};

function run(p: TraceProcessor, msgs: Message[]): BatchOutputs {
  const out = new BatchOutputs();
  for (const m of msgs) p.process(m, out);
  return out;
}

describe('cluster-trace processor', () => {
  it('folds a task through submit, schedule and finish into one lifecycle with its durations', () => {
    const p = new TraceProcessor(DEFAULT_TRACE_CONFIG, SPLIT);
    const out = run(p, [
      msg('task_events', te(1_000_000, 5, 0, '', 0)),
      msg('task_events', te(3_000_000, 5, 0, '42', 1)),
      msg('task_events', te(9_000_000, 5, 0, '42', 4)),
    ]);
    assert.equal(out.appends.get(T.taskEvents.path)?.length, 3);
    const [life] = out.appends.get(T.lifecycles.path) ?? [];
    assert.deepEqual(
      [life.outcome, life.wait_s, life.run_s, life.total_s, life.machine_id, life.n_events, life.class],
      ['FINISH', 2, 6, 8, 42, 3, 0],
    );
  });

  it('classifies each SUBMIT once, into the class table and the classes topic, even when the SUBMIT repeats', () => {
    const p = new TraceProcessor(DEFAULT_TRACE_CONFIG, SPLIT);
    const out = run(p, [
      msg('task_events', te(1_000_000, 5, 0, '', 0, '0.5')),
      msg('task_events', te(1_000_000, 5, 0, '', 0, '0.5')),
      msg('task_events', te(2_000_000, 5, 1, '', 0, '')),
    ]);
    const classes = out.appends.get(T.taskClasses.path) ?? [];
    assert.deepEqual(
      classes.map((r) => [r.task_index, r.class, r.probability, r.model_version, r.imputed]),
      [
        [0, 1, 0.9, 7, false],
        [1, 0, 0.9, 7, true],
      ],
    );
    const sent = out.messages.get(DEFAULT_TRACE_CONFIG.classesTopic) ?? [];
    assert.equal(sent.length, 2);
    assert.equal(
      new TextDecoder().decode(sent[0].value),
      '{"job_id":5,"task_index":0,"submit_time":1000000,"class":1,"probability":0.9,"model_version":7,"placement_hint":"cpu 0.5 / mem 0.5 (1 machines)"}',
    );
    assert.equal(p.state.counters.duplicateSubmits, 1);
    assert.equal(out.appends.get(T.taskEvents.path)?.length, 3, 'bronze keeps every row');
  });

  it('before any model exists, classes SUBMITs as -1 with no probability', () => {
    const p = new TraceProcessor(DEFAULT_TRACE_CONFIG, UNCLASSIFIED);
    const out = run(p, [msg('task_events', te(1, 5, 0, '', 0))]);
    const [row] = out.appends.get(T.taskClasses.path) ?? [];
    assert.deepEqual([row.class, row.probability, row.model_version], [-1, null, null]);
  });

  it('writes attempts still running at a drain as open, and replaces that row when they end later', () => {
    const p = new TraceProcessor(DEFAULT_TRACE_CONFIG, SPLIT);
    run(p, [msg('task_events', te(1_000_000, 5, 0, '', 0)), msg('task_events', te(2_000_000, 5, 0, '9', 1))]);
    const drained = new BatchOutputs();
    p.flush(drained);
    const open = drained.keyed.get(T.lifecycles.path)?.get('5|0|1000000');
    assert.equal(open?.[0].outcome, 'open');
    assert.equal(drained.replaced.get(T.lifecycles.path), undefined, 'nothing in the lake to replace yet');
    // the state survives a restart through its JSON
    const restored = new TraceProcessor(
      DEFAULT_TRACE_CONFIG,
      SPLIT,
      traceStateFromJSON(JSON.parse(JSON.stringify(traceStateToJSON(p.state)))),
    );
    const later = run(restored, [msg('task_events', te(5_000_000, 5, 0, '9', 2))]);
    assert.equal(later.keyed.get(T.lifecycles.path)?.get('5|0|1000000')?.[0].outcome, 'EVICT');
    assert.ok(later.replaced.get(T.lifecycles.path)?.has('5|0|1000000'));
  });

  it('starts a lifecycle at the first event seen when the SUBMIT is not in the input', () => {
    const p = new TraceProcessor(DEFAULT_TRACE_CONFIG, SPLIT);
    const out = run(p, [msg('task_events', te(7, 6, 3, '11', 1)), msg('task_events', te(9, 6, 3, '11', 5))]);
    const [life] = out.appends.get(T.lifecycles.path) ?? [];
    assert.deepEqual([life.submit_time, life.first_time, life.outcome, life.class], [null, 7, 'KILL', null]);
  });

  it('quarantines wrong column counts, non-numeric fields and unknown tables, naming file and line', () => {
    const p = new TraceProcessor(DEFAULT_TRACE_CONFIG, SPLIT);
    const out = run(p, [
      msg('task_events', '1,,5,0', 17),
      msg('machine_events', '1,5,0,plat,half,0.5', 18),
      msg('task_things', '1,2,3', 19),
    ]);
    const q = out.appends.get(T.quarantine.path) ?? [];
    assert.deepEqual(
      q.map((r) => [r.reason, r.src]),
      [
        ['column-count', 'part-00000.csv.gz:17'],
        ['bad-field', 'part-00000.csv.gz:18'],
        ['unknown-table', 'part-00000.csv.gz:19'],
      ],
    );
    assert.match(
      String(q[1].detail),
      /part-00000\.csv\.gz:18: field 5 \(CPUs\) should be a number, is "half"/,
    );
    const c = p.state.counters;
    assert.deepEqual([c.read, c.accepted, c.quarantined], [3, 0, 3]);
  });

  it('closes a minute window once trace time passes it, with arrivals, requests and outcomes per class', () => {
    const p = new TraceProcessor(DEFAULT_TRACE_CONFIG, SPLIT);
    const out = run(p, [
      msg('task_events', te(1_000_000, 5, 0, '', 0, '0.5')),
      msg('task_events', te(2_000_000, 5, 1, '', 0, '0.5')),
      msg('task_events', te(3_000_000, 5, 0, '1', 1)),
      msg('task_events', te(4_000_000, 5, 0, '1', 3)),
      msg('task_events', te(59_000_000, 8, 0, '', 0, '0.1')),
    ]);
    assert.equal(out.appends.get(T.classWindows.path), undefined, 'minute 0 still open');
    const later = run(p, [msg('job_events', '125000000,,8,0,u,1,name,logical')]);
    const rows = later.appends.get(T.classWindows.path) ?? [];
    assert.deepEqual(
      rows.map((r) => [r.minute, r.class, r.arrivals, r.cpu_requested, r.scheduled, r.failed]),
      [
        [0, 1, 2, 1, 1, 1],
        [0, 0, 1, 0.1, 0, 0],
      ],
    );
  });

  it('turns machine events into capacity over time: each change and what the machine has after it', () => {
    const p = new TraceProcessor(DEFAULT_TRACE_CONFIG, SPLIT);
    const out = run(p, [
      msg('machine_events', '0,5,0,plat,0.5,0.25'),
      msg('machine_events', '10,5,2,,,0.5'),
      msg('machine_events', '20,5,1,,,'),
    ]);
    const rows = out.appends.get(T.machineCapacity.path) ?? [];
    assert.deepEqual(
      rows.map((r) => [r.event, r.cpus, r.memory, r.delta_cpus, r.delta_memory]),
      [
        ['ADD', 0.5, 0.25, 0.5, 0.25],
        ['UPDATE', 0.5, 0.5, 0, 0.25],
        ['REMOVE', null, null, -0.5, -0.5],
      ],
    );
  });
});
