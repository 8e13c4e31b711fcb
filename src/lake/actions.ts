// Delta log actions (PROTOCOL.md "Actions"): their shapes, parsing a commit file, writing one.

import { LakestreamError } from '../errors.ts';
import type { DeletionVector } from './dv.ts';

export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: string[];
  writerFeatures?: string[];
}

export interface MetadataAction {
  id: string;
  name?: string | null;
  description?: string | null;
  format: { provider: string; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number | null;
}

export interface AddFile {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** JSON string {numRecords, minValues, maxValues, nullCount}; absent means unknown */
  stats?: string;
  tags?: Record<string, string> | null;
  /** rows of the file marked deleted (PROTOCOL "Deletion Vectors"); part of the file's identity */
  deletionVector?: DeletionVector | null;
}

export interface RemoveFile {
  path: string;
  deletionTimestamp?: number;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: Record<string, string | null>;
  size?: number;
  /** rows of the file marked deleted (PROTOCOL "Deletion Vectors"); part of the file's identity */
  deletionVector?: DeletionVector | null;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number;
}

export interface CommitInfo {
  timestamp?: number;
  operation?: string;
  operationParameters?: Record<string, unknown>;
  [key: string]: unknown;
}

export type Action =
  | { protocol: ProtocolAction }
  | { metaData: MetadataAction }
  | { add: AddFile }
  | { remove: RemoveFile }
  | { txn: TxnAction }
  | { commitInfo: CommitInfo }
  | Record<string, unknown>; // cdc, domainMetadata, checkpointMetadata, sidecar: kept, mostly ignored

/** `_delta_log/00000000000000000012.json` */
export function commitFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`;
}

export function checkpointFileName(version: number): string {
  return `${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

/**
 * Parses a commit file: newline-delimited JSON, one action per line. A truncated or garbled line is
 * an error naming the file and the line, never a silently shorter commit.
 */
export function parseCommit(bytes: Uint8Array, where: string): Action[] {
  const text = new TextDecoder().decode(bytes);
  const out: Action[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let a: unknown;
    try {
      a = JSON.parse(line);
    } catch (e) {
      throw new LakestreamError(
        'CORRUPT_TABLE',
        `${where} line ${i + 1}: not valid JSON (${(e as Error).message}): ${line.slice(0, 80)}`,
        { cause: e },
      );
    }
    if (a === null || typeof a !== 'object' || Array.isArray(a))
      throw new LakestreamError('CORRUPT_TABLE', `${where} line ${i + 1}: an action must be a JSON object`);
    out.push(a as Action);
  }
  if (out.length === 0) throw new LakestreamError('CORRUPT_TABLE', `${where}: the commit file is empty`);
  return out;
}

export function serializeCommit(actions: Action[]): Uint8Array {
  return new TextEncoder().encode(`${actions.map((a) => JSON.stringify(a)).join('\n')}\n`);
}

/** Path of a data file as stored (relative to the table, percent-decoded once), per PROTOCOL "Path Names". */
export function decodeDataPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * Hive-style escaping of a partition value in a directory name (as Spark does), so names are safe on
 * every file system; `add.path` then URI-encodes the result once more.
 */
export function escapePartitionValue(v: string): string {
  let out = '';
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f || '"#%\'*/:=?\\{[]^'.includes(ch))
      out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/** URI-encodes a relative path for `add.path` (keeps '/', '=' and the unreserved characters). */
export function encodeDataPath(physical: string): string {
  return physical
    .split('/')
    .map((seg) => encodeURIComponent(seg).replaceAll('%3D', '='))
    .join('/');
}
