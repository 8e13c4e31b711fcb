// Per-partition stream state of the cluster-trace workload: open task attempts, open per-minute
// class windows, machine capacities, the event-time watermark. Saved with each batch (compact
// arrays, since a partition holds tens of thousands of open attempts): whole, or as a delta of the
// entries changed since the last save (TraceChanges; see stream/manifest.ts).

/** One attempt of a task: from its SUBMIT (or its first event seen) to its terminal event. */
export interface Attempt {
  job: number;
  task: number;
  first: number;
  submit: number | null;
  schedule: number | null;
  machine: number | null;
  cpu: number | null;
  mem: number | null;
  disk: number | null;
  prio: number | null;
  sc: number | null;
  /** class given at SUBMIT (null: no SUBMIT seen) */
  cls: number | null;
  /** task events folded in */
  n: number;
  /** an "open" row for it is in the lake (written at a drain) */
  written: boolean;
}

export interface ClassWindow {
  minute: number;
  cls: number;
  arrivals: number;
  cpu: number;
  mem: number;
  disk: number;
  scheduled: number;
  finished: number;
  failed: number;
  killed: number;
  evicted: number;
  lost: number;
}

export interface Machine {
  cpus: number | null;
  memory: number | null;
  platform: string | null;
}

export interface TraceCounters {
  read: number;
  accepted: number;
  quarantined: number;
  /** always 0: bronze keeps every row of the trace (the worker's exactly-once stops redelivery) */
  duplicates: number;
  byReason: Record<string, number>;
  /** SUBMITs repeating the open attempt's (job, task, time): in bronze, but given no second class */
  duplicateSubmits: number;
  classified: number;
}

export interface TraceState {
  attempts: Map<string, Attempt>;
  windows: Map<string, ClassWindow>;
  machines: Map<number, Machine>;
  /** latest trace time seen (µs) */
  watermark: number;
  counters: TraceCounters;
}

export function newTraceState(): TraceState {
  return {
    attempts: new Map(),
    windows: new Map(),
    machines: new Map(),
    watermark: 0,
    counters: {
      read: 0,
      accepted: 0,
      quarantined: 0,
      duplicates: 0,
      byReason: {},
      duplicateSubmits: 0,
      classified: 0,
    },
  };
}

export const attemptKey = (job: number, task: number) => `${job}|${task}`;
export const windowKey = (minute: number, cls: number) => `${minute}|${cls}`;

const A_FIELDS = [
  'job',
  'task',
  'first',
  'submit',
  'schedule',
  'machine',
  'cpu',
  'mem',
  'disk',
  'prio',
  'sc',
  'cls',
  'n',
  'written',
] as const;
const W_FIELDS = [
  'minute',
  'cls',
  'arrivals',
  'cpu',
  'mem',
  'disk',
  'scheduled',
  'finished',
  'failed',
  'killed',
  'evicted',
  'lost',
] as const;

export function traceStateToJSON(s: TraceState): object {
  return {
    watermark: s.watermark,
    counters: s.counters,
    attempts: [...s.attempts.values()].map((a) => A_FIELDS.map((f) => a[f])),
    windows: [...s.windows.values()].map((w) => W_FIELDS.map((f) => w[f])),
    machines: [...s.machines].map(([id, m]) => [id, m.cpus, m.memory, m.platform]),
  };
}

export function traceStateFromJSON(o: unknown): TraceState {
  const j = o as {
    watermark: number;
    counters: TraceCounters;
    attempts: unknown[][];
    windows: unknown[][];
    machines: [number, number | null, number | null, string | null][];
  };
  const s = newTraceState();
  s.watermark = j.watermark ?? 0;
  s.counters = { ...s.counters, ...j.counters };
  for (const arr of j.attempts) {
    const a = Object.fromEntries(A_FIELDS.map((f, i) => [f, arr[i]])) as unknown as Attempt;
    s.attempts.set(attemptKey(a.job, a.task), a);
  }
  for (const arr of j.windows) {
    const w = Object.fromEntries(W_FIELDS.map((f, i) => [f, arr[i]])) as unknown as ClassWindow;
    s.windows.set(windowKey(w.minute, w.cls), w);
  }
  for (const [id, cpus, memory, platform] of j.machines) s.machines.set(id, { cpus, memory, platform });
  return s;
}

/** The keys of one of the state's maps changed since the last save, and those removed meanwhile. */
class KeyChanges<K> {
  readonly touched = new Set<K>();
  /** removed at least once since the last save (if present again, it was made again: at the map's end) */
  readonly removed = new Set<K>();

  clear(): void {
    this.touched.clear();
    this.removed.clear();
  }

  /** [entries present now that changed, in the map's order; keys to delete first] */
  delta<V>(map: Map<K, V>): [[K, V][], K[]] {
    const drop = [...this.touched].filter((k) => this.removed.has(k) || !map.has(k));
    if (this.touched.size === 0) return [[], drop];
    const changed: [K, V][] = [];
    for (const e of map) if (this.touched.has(e[0])) changed.push(e);
    return [changed, drop];
  }
}

/**
 * What changed in a partition's trace state since it was last saved. The processor notes each
 * attempt, window and machine it changes or removes; the delta holds them as they are now (and the
 * keys removed), the watermark and the counters.
 */
export class TraceChanges {
  readonly attempts = new KeyChanges<string>();
  readonly windows = new KeyChanges<string>();
  readonly machines = new KeyChanges<number>();

  saved(): void {
    this.attempts.clear();
    this.windows.clear();
    this.machines.clear();
  }

  deltaText(s: TraceState): string {
    const [attempts, dropAttempts] = this.attempts.delta(s.attempts);
    const [windows, dropWindows] = this.windows.delta(s.windows);
    const [machines, dropMachines] = this.machines.delta(s.machines);
    return JSON.stringify({
      watermark: s.watermark,
      counters: s.counters,
      attempts: attempts.map(([, a]) => A_FIELDS.map((f) => a[f])),
      dropAttempts,
      windows: windows.map(([, w]) => W_FIELDS.map((f) => w[f])),
      dropWindows,
      machines: machines.map(([id, m]) => [id, m.cpus, m.memory, m.platform]),
      dropMachines,
    });
  }
}

/** Applies a delta (TraceChanges.deltaText) to the state it was taken from. */
export function applyTraceDelta(s: TraceState, delta: unknown): void {
  const j = delta as ReturnType<typeof JSON.parse>;
  const changed = traceStateFromJSON(j);
  s.watermark = changed.watermark;
  s.counters = changed.counters;
  for (const k of j.dropAttempts as string[]) s.attempts.delete(k);
  for (const k of j.dropWindows as string[]) s.windows.delete(k);
  for (const k of j.dropMachines as number[]) s.machines.delete(k);
  for (const [k, a] of changed.attempts) s.attempts.set(k, a);
  for (const [k, w] of changed.windows) s.windows.set(k, w);
  for (const [k, m] of changed.machines) s.machines.set(k, m);
}
