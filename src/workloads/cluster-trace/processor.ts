// The cluster-trace stream logic, message by message and without I/O. Batch layer: every trace row
// typed into bronze (malformed ones quarantined with file:line), task attempts folded into silver
// lifecycles, machine events into silver capacity. Speed layer: each SUBMIT classified on arrival
// (gold task_classes + a topic) and counted into per-minute class windows closed by the watermark.
// Deterministic for a given classifier: the same messages in the same order give the same rows.

import {
  MACHINE_EVENT_NAMES,
  parseTraceRow,
  TASK_EVENT,
  TASK_EVENT_NAMES,
  TRACE_SCHEMA,
  TRACE_TABLES,
  type TraceTable,
  type TraceValue,
  US_PER_HOUR,
  US_PER_MINUTE,
} from '../../domain/cluster-trace/schema.ts';
import { BRONZE_PATH, TRACE_LAKE_TABLES as T } from '../../domain/cluster-trace/tables.ts';
import { TOPICS } from '../../domain/topics.ts';
import type { TaskClassifier } from '../../models/task-gmm/model.ts';
import type { BatchOutputs, Row } from '../../stream/outputs.ts';
import type { Message } from '../../transport/index.ts';
import {
  type Attempt,
  attemptKey,
  type ClassWindow,
  newTraceState,
  TraceChanges,
  type TraceState,
  windowKey,
} from './state.ts';

export interface TraceConfig {
  /** trace time a minute window stays open after it ends (µs) */
  windowLatenessUs: number;
  quarantineTopic: string;
  classesTopic: string;
}

export const DEFAULT_TRACE_CONFIG: TraceConfig = {
  windowLatenessUs: 60_000_000,
  quarantineTopic: TOPICS.traceQuarantine,
  classesTopic: TOPICS.taskClasses,
};

const utf8 = new TextDecoder('utf-8', { fatal: false });
const enc = new TextEncoder();
const TABLES = new Set<string>(TRACE_TABLES);

/** The time column giving a row its trace hour. */
const TIME_INDEX: Record<TraceTable, number> = {
  task_events: 0,
  job_events: 0,
  task_usage: 0,
  machine_events: 0,
};

// The fields of a task_classes row the classes topic carries, in the message's order.
const CLASS_MESSAGE_FIELDS = [
  'job_id',
  'task_index',
  'submit_time',
  'class',
  'probability',
  'model_version',
  'placement_hint',
];

// The window counter each event that ends an attempt adds to.
const END_COUNTERS: Partial<Record<number, 'finished' | 'failed' | 'killed' | 'evicted' | 'lost'>> = {
  [TASK_EVENT.FINISH]: 'finished',
  [TASK_EVENT.FAIL]: 'failed',
  [TASK_EVENT.KILL]: 'killed',
  [TASK_EVENT.EVICT]: 'evicted',
  [TASK_EVENT.LOST]: 'lost',
};

export class TraceProcessor {
  readonly state: TraceState;
  /** what changed since the state was last saved (the manifest's deltas): every change below notes its key */
  readonly changes = new TraceChanges();
  /** the partition this processor serves (set by the workload): class window rows carry it */
  partitionOf = 0;
  private readonly config: TraceConfig;
  private classifier: TaskClassifier;
  /** the earliest watermark at which an open window is due */
  private nextCloseAt = Number.NEGATIVE_INFINITY;

  constructor(config: TraceConfig, classifier: TaskClassifier, state: TraceState = newTraceState()) {
    this.config = config;
    this.classifier = classifier;
    this.state = state;
  }

  setClassifier(c: TaskClassifier): void {
    this.classifier = c;
  }

  process(msg: Message, out: BatchOutputs): void {
    const c = this.state.counters;
    c.read++;
    const text = utf8.decode(msg.value);
    let m: { v?: unknown; table?: unknown; src?: unknown; row?: unknown; unparsed?: unknown };
    try {
      m = JSON.parse(text);
    } catch {
      this.quarantine(out, msg, 'bad-json', 'the message is not JSON', null, null, text);
      return;
    }
    const src = typeof m?.src === 'string' ? m.src : null;
    if (m === null || typeof m !== 'object' || typeof m.row !== 'string' || typeof m.table !== 'string') {
      this.quarantine(out, msg, 'bad-message', 'expected {"v":1,"table":…,"src":…,"row":…}', null, src, text);
      return;
    }
    if (!TABLES.has(m.table)) {
      this.quarantine(out, msg, 'unknown-table', `no trace table "${m.table}"`, m.table, src, m.row);
      return;
    }
    const table = m.table as TraceTable;
    const parsed = parseTraceRow(table, m.row);
    if (!parsed.ok) {
      this.quarantine(
        out,
        msg,
        parsed.reason,
        `${src ?? 'unknown position'}: ${parsed.detail}`,
        table,
        src,
        m.row,
      );
      return;
    }
    c.accepted++;
    const v = parsed.values;
    // every table's first field is its time (task_usage: the start of the measurement window)
    const time = v[0] as number;
    const row: Row = {};
    TRACE_SCHEMA[table].forEach((col, i) => {
      row[col.name] = v[i];
    });
    row.src = src;
    row.partition = msg.partition;
    row.offset = msg.offset;
    row.hour = Math.floor(time / US_PER_HOUR);
    out.append(BRONZE_PATH[table], row);
    if (table === 'task_events') this.taskEvent(v, out);
    else if (table === 'machine_events') this.machineEvent(v, out);
    if (table !== 'machine_events' && time > this.state.watermark) {
      // machine_events cover the whole trace ahead of the tasks: only task and job time moves the windows
      this.state.watermark = time;
      if (time >= this.nextCloseAt) this.closeWindows(out, false);
    }
  }

  /** End of a bounded input: open windows and still-running attempts are written as they stand. */
  flush(out: BatchOutputs): void {
    this.closeWindows(out, true);
    for (const [key, a] of this.state.attempts) {
      this.changes.attempts.touched.add(key);
      out.upsert(T.lifecycles.path, keyOf(a), [lifecycleRow(a, 'open', null)], a.written);
      a.written = true;
    }
  }

  private taskEvent(v: TraceValue[], out: BatchOutputs): void {
    const time = v[0] as number;
    const job = v[2] as number;
    const task = v[3] as number;
    const type = v[5] as number;
    const key = attemptKey(job, task);
    this.changes.attempts.touched.add(key);
    let a = this.state.attempts.get(key);
    if (type === TASK_EVENT.SUBMIT) {
      if (a && a.submit === time) {
        // the same SUBMIT again: one class row per (job, task, time)
        this.state.counters.duplicateSubmits++;
        a.n++;
        return;
      }
      // a new SUBMIT while an attempt is open: the trace lost that attempt's end
      if (a) this.endAttempt(a, 'superseded', null, out);
      a = newAttempt(job, task, time);
      a.submit = time;
      setRequests(a, v);
      this.state.attempts.set(key, a);
      a.n++;
      this.classify(a, out);
      const w = this.window(time, a.cls as number);
      w.arrivals++;
      w.cpu += a.cpu ?? 0;
      w.mem += a.mem ?? 0;
      w.disk += a.disk ?? 0;
      return;
    }
    if (!a) {
      // its SUBMIT is before the replayed input (or in a shard not replayed)
      a = newAttempt(job, task, time);
      setRequests(a, v);
      this.state.attempts.set(key, a);
    }
    a.n++;
    const w = this.window(time, a.cls ?? -1);
    switch (type) {
      case TASK_EVENT.SCHEDULE:
        a.schedule = time;
        a.machine = v[4] as number | null;
        w.scheduled++;
        return;
      case TASK_EVENT.UPDATE_PENDING:
      case TASK_EVENT.UPDATE_RUNNING:
        setRequests(a, v);
        return;
      default: {
        const ended = END_COUNTERS[type];
        if (ended === undefined) return; // an event type the schema does not name: kept in bronze, counted in n
        w[ended]++;
      }
    }
    if (a.machine === null) a.machine = v[4] as number | null;
    this.endAttempt(a, TASK_EVENT_NAMES[type], time, out);
  }

  private endAttempt(a: Attempt, outcome: string, end: number | null, out: BatchOutputs): void {
    const row = lifecycleRow(a, outcome, end);
    if (a.written) out.upsert(T.lifecycles.path, keyOf(a), [row], true);
    else out.append(T.lifecycles.path, row);
    const key = attemptKey(a.job, a.task);
    this.changes.attempts.touched.add(key);
    this.changes.attempts.removed.add(key);
    this.state.attempts.delete(key);
  }

  private classify(a: Attempt, out: BatchOutputs): void {
    const r = this.classifier.classify({
      cpu_request: a.cpu,
      memory_request: a.mem,
      disk_request: a.disk,
      priority: a.prio,
      scheduling_class: a.sc,
    });
    a.cls = r.cls;
    this.state.counters.classified++;
    const row = {
      job_id: a.job,
      task_index: a.task,
      submit_time: a.submit,
      class: r.cls,
      probability: r.probability,
      model_version: this.classifier.version,
      cpu_request: a.cpu,
      memory_request: a.mem,
      disk_request: a.disk,
      priority: a.prio,
      scheduling_class: a.sc,
      imputed: r.imputed,
      placement_hint: r.hint,
      hour: Math.floor((a.submit as number) / US_PER_HOUR),
    };
    out.append(T.taskClasses.path, row);
    out.send(this.config.classesTopic, String(a.job), enc.encode(JSON.stringify(row, CLASS_MESSAGE_FIELDS)));
  }

  private window(time: number, cls: number): ClassWindow {
    const minute = Math.floor(time / US_PER_MINUTE);
    const key = windowKey(minute, cls);
    this.changes.windows.touched.add(key);
    let w = this.state.windows.get(key);
    if (!w) {
      w = {
        minute,
        cls,
        arrivals: 0,
        cpu: 0,
        mem: 0,
        disk: 0,
        scheduled: 0,
        finished: 0,
        failed: 0,
        killed: 0,
        evicted: 0,
        lost: 0,
      };
      this.state.windows.set(key, w);
      const due = (minute + 1) * US_PER_MINUTE + this.config.windowLatenessUs;
      if (due < this.nextCloseAt || this.nextCloseAt === Number.NEGATIVE_INFINITY) this.nextCloseAt = due;
      // a late event for an already written minute: its window is due at once (rows are additive)
      if (due <= this.state.watermark) this.nextCloseAt = this.state.watermark;
    }
    return w;
  }

  /** Writes the windows the watermark has passed (all of them at a drain). */
  private closeWindows(out: BatchOutputs, all: boolean): void {
    let next = Number.POSITIVE_INFINITY;
    for (const [key, w] of this.state.windows) {
      const due = (w.minute + 1) * US_PER_MINUTE + this.config.windowLatenessUs;
      if (!all && due > this.state.watermark) {
        if (due < next) next = due;
        continue;
      }
      out.append(T.classWindows.path, {
        minute: w.minute,
        class: w.cls,
        partition: this.partitionOf,
        arrivals: w.arrivals,
        cpu_requested: w.cpu,
        memory_requested: w.mem,
        disk_requested: w.disk,
        scheduled: w.scheduled,
        finished: w.finished,
        failed: w.failed,
        killed: w.killed,
        evicted: w.evicted,
        lost: w.lost,
        hour: Math.floor((w.minute * US_PER_MINUTE) / US_PER_HOUR),
      });
      this.changes.windows.touched.add(key);
      this.changes.windows.removed.add(key);
      this.state.windows.delete(key);
    }
    this.nextCloseAt = next === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : next;
  }

  private machineEvent(v: TraceValue[], out: BatchOutputs): void {
    const id = v[1] as number;
    const type = v[2] as number;
    const old = this.state.machines.get(id);
    const oldCpus = old?.cpus ?? 0;
    const oldMem = old?.memory ?? 0;
    let now: { cpus: number | null; memory: number | null; platform: string | null } | undefined;
    this.changes.machines.touched.add(id);
    if (type === 1) {
      this.changes.machines.removed.add(id);
      this.state.machines.delete(id);
    } else {
      // empty capacity fields keep what the machine had
      now = {
        cpus: (v[4] as number | null) ?? old?.cpus ?? null,
        memory: (v[5] as number | null) ?? old?.memory ?? null,
        platform: (v[3] as string | null) ?? old?.platform ?? null,
      };
      this.state.machines.set(id, now);
    }
    out.append(T.machineCapacity.path, {
      time: v[0],
      machine_id: id,
      event: MACHINE_EVENT_NAMES[type] ?? String(type),
      platform_id: now?.platform ?? old?.platform ?? null,
      cpus: now?.cpus ?? null,
      memory: now?.memory ?? null,
      delta_cpus: (now?.cpus ?? 0) - oldCpus,
      delta_memory: (now?.memory ?? 0) - oldMem,
    });
  }

  private quarantine(
    out: BatchOutputs,
    msg: Message,
    reason: string,
    detail: string,
    table: string | null,
    src: string | null,
    raw: string,
  ): void {
    const c = this.state.counters;
    c.quarantined++;
    c.byReason[reason] = (c.byReason[reason] ?? 0) + 1;
    const row = {
      reason,
      detail,
      trace_table: table,
      src,
      raw,
      partition: msg.partition,
      offset: msg.offset,
    };
    out.append(T.quarantine.path, row);
    out.send(this.config.quarantineTopic, msg.key, enc.encode(JSON.stringify(row)));
  }
}

function newAttempt(job: number, task: number, first: number): Attempt {
  return {
    job,
    task,
    first,
    submit: null,
    schedule: null,
    machine: null,
    cpu: null,
    mem: null,
    disk: null,
    prio: null,
    sc: null,
    cls: null,
    n: 0,
    written: false,
  };
}

/** Requests, priority and class from a task event (an empty field keeps the earlier value). */
function setRequests(a: Attempt, v: TraceValue[]): void {
  a.sc = (v[7] as number | null) ?? a.sc;
  a.prio = (v[8] as number | null) ?? a.prio;
  a.cpu = (v[9] as number | null) ?? a.cpu;
  a.mem = (v[10] as number | null) ?? a.mem;
  a.disk = (v[11] as number | null) ?? a.disk;
}

const keyOf = (a: Attempt) => `${a.job}|${a.task}|${a.first}`;
const secs = (from: number | null, to: number | null) =>
  from === null || to === null ? null : (to - from) / 1e6;

function lifecycleRow(a: Attempt, outcome: string, end: number | null): Row {
  return {
    job_id: a.job,
    task_index: a.task,
    first_time: a.first,
    submit_time: a.submit,
    schedule_time: a.schedule,
    end_time: end,
    outcome,
    machine_id: a.machine,
    wait_s: secs(a.submit, a.schedule),
    run_s: secs(a.schedule, end),
    total_s: secs(a.submit, end),
    cpu_request: a.cpu,
    memory_request: a.mem,
    disk_request: a.disk,
    priority: a.prio,
    scheduling_class: a.sc,
    class: a.cls,
    n_events: a.n,
  };
}
