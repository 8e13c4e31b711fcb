// A stream worker's status: what it counts, where its time goes, and its file under
// `_status/workers/` in the lake store (the one module that writes and reads those files).

import type { ObjectStore } from '../storage/index.ts';
import type { MemoryReport } from './memory.ts';
import type { PartitionProcessor } from './workload.ts';

/** Where the worker's status files live in the lake store. */
const STATUS_DIR = '_status/workers/';

/** The phases a worker's time is split into (cumulative ms in its status). */
export type Phase = 'poll' | 'process' | 'files' | 'manifest' | 'commit' | 'offsets' | 'compact';

export interface WorkerStatus {
  worker: string;
  group: string;
  workload: string;
  updated_at: string;
  assigned: { topic: string; partition: number }[];
  read: number;
  accepted: number;
  quarantined: number;
  duplicates: number;
  committed_offsets: { topic: string; partition: number; offset: number }[];
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  model_version: number | null;
  quarantine_reasons: Record<string, number>;
  last_commit: { table: string; version: number; at: string } | null;
  batches: number;
  rows_written: number;
  /** bytes of the batches' manifests and state objects (snapshots and deltas, see manifest.ts) */
  manifest_bytes: number;
  /** where the time went, cumulative ms: poll, process (decode…gold logic), files (Parquet writes), manifest, commit (Delta log), offsets */
  timings_ms: Record<Phase, number>;
  /** why batches are not committed (storage full, an outage) and since when; null while they are */
  blocked: { reason: string; since: string } | null;
  /** the worker's own memory figures (memory.ts), refreshed with each status write */
  memory: MemoryReport | null;
}

/** The status of a worker that has done nothing yet. */
export function newStatus(worker: string, group: string, workload: string): WorkerStatus {
  return {
    worker,
    group,
    workload,
    updated_at: new Date().toISOString(),
    assigned: [],
    read: 0,
    accepted: 0,
    quarantined: 0,
    duplicates: 0,
    committed_offsets: [],
    latency_ms: { p50: null, p95: null, p99: null },
    model_version: null,
    quarantine_reasons: {},
    last_commit: null,
    batches: 0,
    rows_written: 0,
    manifest_bytes: 0,
    timings_ms: { poll: 0, process: 0, files: 0, manifest: 0, commit: 0, offsets: 0, compact: 0 },
    blocked: null,
    memory: null,
  };
}

/** Adds the time between marks to the phase that took it. */
export class PhaseClock {
  private readonly timings: Record<Phase, number>;
  private mark = performance.now();

  constructor(timings: Record<Phase, number>) {
    this.timings = timings;
  }

  /** Starts timing from now (the time before it belongs to no phase). */
  start(): void {
    this.mark = performance.now();
  }

  /** Adds the time since the last mark to a phase. */
  lap(phase: Phase): void {
    const now = performance.now();
    this.timings[phase] += now - this.mark;
    this.mark = now;
  }
}

/** Sums the counters of the partitions' processors into the status (they count since their partition was adopted). */
export function refreshCounters(
  status: WorkerStatus,
  processors: Iterable<PartitionProcessor>,
  modelVersion: number | null | undefined,
): void {
  let read = 0;
  let accepted = 0;
  let quarantined = 0;
  let duplicates = 0;
  const reasons: Record<string, number> = {};
  for (const p of processors) {
    const c = p.counters();
    read += c.read;
    accepted += c.accepted;
    quarantined += c.quarantined;
    duplicates += c.duplicates;
    for (const [r, n] of Object.entries(c.byReason)) reasons[r] = (reasons[r] ?? 0) + n;
  }
  Object.assign(status, {
    read,
    accepted,
    quarantined,
    duplicates,
    quarantine_reasons: reasons,
    updated_at: new Date().toISOString(),
  });
  status.model_version = modelVersion ?? status.model_version;
}

/** Writes a worker's status file; a failed write is dropped (the next one, ~2 s later, replaces it). */
export async function writeWorkerStatus(store: ObjectStore, status: WorkerStatus): Promise<void> {
  await store
    .put(`${STATUS_DIR}${status.worker}.json`, new TextEncoder().encode(JSON.stringify(status)))
    .catch(() => {});
}

/** Every worker's status file in the lake store, by worker id (unreadable ones are skipped). */
export async function readWorkerStatuses(store: ObjectStore): Promise<WorkerStatus[]> {
  const out: WorkerStatus[] = [];
  for (const o of await store.list(STATUS_DIR)) {
    if (!o.path.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(new TextDecoder().decode(await store.get(o.path))) as WorkerStatus);
    } catch {
      // a status being rewritten or removed right now: the next read sees it
    }
  }
  return out.sort((a, b) => a.worker.localeCompare(b.worker));
}
