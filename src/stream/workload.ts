// What a workload (meters, cluster-trace) gives the generic stream worker.

import type { Action, Lake, Row, TableSpec } from '../lake/index.ts';
import type { Message } from '../transport/index.ts';
import type { BatchOutputs } from './outputs.ts';

export interface PartitionProcessor {
  process(msg: Message, out: BatchOutputs): void;
  /** end of a bounded input: write what is still open */
  flush(out: BatchOutputs): void;
  /** the state, for the batch's manifest (a takeover resumes from it through newProcessor) */
  toJSON(): unknown;
  /** the same as JSON text, when the processor can make it faster than JSON.stringify(toJSON()) */
  toJSONText?(): string;
  /** the same as UTF-8 bytes, made without one string of the whole state (large states) */
  toJSONBytes?(): Uint8Array;
  /**
   * Incremental state (optional: without it every batch saves the whole state; see manifest.ts).
   * What changed since the state was last saved (restored, or taken whole or as a delta and then
   * `saved()`), as JSON text that applyDelta replays onto the state it was taken from.
   */
  deltaText?(): string;
  /** the state as it stands now is saved: the next delta starts from here */
  saved?(): void;
  /** applies a delta deltaText made, on the state it was taken from (a takeover, in batch-number order) */
  applyDelta?(delta: unknown): void;
  /** read = accepted + quarantined + duplicates */
  counters(): {
    read: number;
    accepted: number;
    quarantined: number;
    duplicates: number;
    byReason: Record<string, number>;
  };
}

export interface WorkloadTable {
  path: string;
  spec: TableSpec;
  /** columns identifying a keyed row group (for rewrites); the key string is their values joined by '|' */
  keyColumns?: string[];
  /**
   * The rows the table starts with when a worker creates it: what the lake already holds that the
   * table must account for (a table added to a workload whose lake was written without it). Read
   * once, when the table is missing, and written with its creation (ensureTables).
   */
  initialRows?(lake: Lake): Promise<Row[]>;
}

/**
 * Creates the workload's missing tables, in its order (a table's initialRows may read the tables
 * before it), and checks the schema of the others. Before a worker's first batch.
 */
export async function ensureTables(lake: Lake, workload: Workload): Promise<void> {
  for (const t of workload.tables)
    await lake.table(t.path).ensure(t.spec, t.initialRows && (() => t.initialRows!(lake)));
}

export interface Workload {
  name: string;
  topic: string;
  tables: WorkloadTable[];
  newProcessor(partition: number, saved?: unknown): PartitionProcessor;
  /** called between batches (e.g. to pick up a new model version); cheap when nothing changed */
  refresh?(): Promise<void>;
  /** shown in the worker status */
  modelVersion?(): number | null;
  /**
   * After a batch's tables are committed (also a batch re-committed on takeover): derives from the
   * lake what spans partitions (the meters' fleet totals). Must be idempotent. Returns messages to send.
   */
  afterCommit?(lake: Lake, tables: { path: string; actions: Action[] }[]): Promise<OutMessage[]>;
}

export interface OutMessage {
  topic: string;
  key: string | null;
  value: Uint8Array;
}
