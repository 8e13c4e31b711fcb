// A snapshot: the table's state at one version — schema, partition columns, live files, txn versions.

import { LakestreamError } from '../errors.ts';
import type { AddFile, MetadataAction, ProtocolAction } from './actions.ts';
import type { LogState } from './log/replay.ts';
import { checkReadable } from './protocol.ts';
import { type Field, parseSchemaString } from './schema.ts';

export class Snapshot {
  /** table path within the lake */
  readonly table: string;
  readonly version: number;
  readonly schema: Field[];
  readonly partitionColumns: string[];
  readonly txnVersions: ReadonlyMap<string, number>;
  readonly metadata: MetadataAction;
  readonly protocol: ProtocolAction;
  /** ms since the epoch of the commit that made this version */
  readonly timestamp: number;
  /** the replayed log (internal: the writer and checkpoints build on it) */
  readonly state: LogState;
  private fileList: AddFile[] | undefined;

  constructor(table: string, state: LogState) {
    const where = `table ${table} at version ${state.version}`;
    if (!state.protocol)
      throw new LakestreamError('CORRUPT_TABLE', `${where}: the log has no protocol action`);
    if (!state.metadata)
      throw new LakestreamError('CORRUPT_TABLE', `${where}: the log has no metaData action`);
    checkReadable(state.protocol, state.metadata, where);
    this.table = table;
    this.version = state.version;
    this.state = state;
    this.metadata = state.metadata;
    this.protocol = state.protocol;
    this.schema = parseSchemaString(state.metadata.schemaString, where);
    this.partitionColumns = state.metadata.partitionColumns ?? [];
    this.timestamp = state.timestamp;
    const txns = new Map<string, number>();
    for (const [k, t] of state.txns) txns.set(k, t.version);
    this.txnVersions = txns;
  }

  /** Live data files. */
  get files(): AddFile[] {
    this.fileList ??= [...this.state.files.values()];
    return this.fileList;
  }

  /** Rows per the files' stats, less the rows DVs delete (undefined when some file has no numRecords). */
  get numRecords(): number | undefined {
    let n = 0;
    for (const f of this.files) {
      const s = liveRecords(f);
      if (s === undefined) return undefined;
      n += s;
    }
    return n;
  }

  get sizeInBytes(): number {
    return this.files.reduce((a, f) => a + Number(f.size), 0);
  }
}

export interface FileStats {
  numRecords?: number;
  minValues?: Record<string, unknown>;
  maxValues?: Record<string, unknown>;
  nullCount?: Record<string, unknown>;
}

export function parseStats(f: AddFile): FileStats | undefined {
  if (!f.stats) return undefined;
  try {
    return JSON.parse(f.stats) as FileStats;
  } catch {
    return undefined;
  }
}

/** A file's live rows: its stats' numRecords (which count every row written) less its DV's cardinality. */
export function liveRecords(f: AddFile): number | undefined {
  const n = parseStats(f)?.numRecords;
  return n === undefined ? undefined : Number(n) - Number(f.deletionVector?.cardinality ?? 0);
}
