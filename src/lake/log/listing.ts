// Listing a table's _delta_log: commit files and checkpoints by version (PROTOCOL "Delta Log Entries").
// Names are matched strictly: `*.compacted.json`, `.crc`, `_staged_commits/` and temp files are ignored.

import type { ObjectInfo, ObjectStore } from '../../storage/index.ts';
import { joinPath } from '../../storage/index.ts';

export interface CheckpointRef {
  version: number;
  kind: 'classic' | 'multi-part' | 'v2';
  /** store paths of the checkpoint's files (every part, for multi-part) */
  paths: string[];
}

export interface LogListing {
  /** version -> commit file */
  commits: Map<number, ObjectInfo>;
  /** complete checkpoints, ascending by version */
  checkpoints: CheckpointRef[];
  /** anything at all under _delta_log (an empty log directory is not a table) */
  any: boolean;
}

const COMMIT = /^(\d{20})\.json$/;
const CLASSIC = /^(\d{20})\.checkpoint\.parquet$/;
const MULTI = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const V2 = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/;

export function logDir(table: string): string {
  return joinPath(table, '_delta_log');
}

export async function listLog(store: ObjectStore, table: string): Promise<LogListing> {
  return parseListing(table, await store.list(`${logDir(table)}/`));
}

/**
 * The log from `version` on, listed 100 versions at a time by name prefix (the first 18 of the 20
 * digits), so a table with a long history is not listed whole on every cold load.
 */
export async function listLogFrom(store: ObjectStore, table: string, version: number): Promise<LogListing> {
  const dir = logDir(table);
  const entries: ObjectInfo[] = [];
  for (let block = Math.floor(version / 100); ; block++) {
    const prefix = String(block * 100)
      .padStart(20, '0')
      .slice(0, 18);
    const found = await store.list(`${dir}/${prefix}`);
    entries.push(...found);
    const last = `${dir}/${String(block * 100 + 99).padStart(20, '0')}.json`;
    if (!found.some((e) => e.path === last)) break; // the block is not full: nothing beyond it
  }
  return parseListing(table, entries);
}

function parseListing(table: string, entries: ObjectInfo[]): LogListing {
  const dir = logDir(table);
  const commits = new Map<number, ObjectInfo>();
  const classic = new Map<number, string>();
  const multi = new Map<number, { total: number; parts: Map<number, string> }>();
  const v2 = new Map<number, string>();
  for (const e of entries) {
    const name = e.path.slice(dir.length + 1);
    if (name.includes('/')) continue; // _staged_commits/, _sidecars/ …
    let m = COMMIT.exec(name);
    if (m) {
      commits.set(Number(m[1]), e);
      continue;
    }
    m = CLASSIC.exec(name);
    if (m) {
      classic.set(Number(m[1]), e.path);
      continue;
    }
    m = MULTI.exec(name);
    if (m) {
      const v = Number(m[1]);
      const total = Number(m[3]);
      let g = multi.get(v);
      if (!g || g.total !== total) {
        g = g && g.total > total ? g : { total, parts: new Map() };
        multi.set(v, g);
      }
      if (g.total === total) g.parts.set(Number(m[2]), e.path);
      continue;
    }
    m = V2.exec(name);
    if (m) v2.set(Number(m[1]), e.path);
  }
  const checkpoints: CheckpointRef[] = [];
  const versions = new Set([...classic.keys(), ...multi.keys(), ...v2.keys()]);
  for (const v of [...versions].sort((a, b) => a - b)) {
    const g = multi.get(v);
    if (g && g.parts.size === g.total)
      checkpoints.push({
        version: v,
        kind: 'multi-part',
        paths: [...g.parts.entries()].sort((a, b) => a[0] - b[0]).map((x) => x[1]),
      });
    else if (classic.has(v)) checkpoints.push({ version: v, kind: 'classic', paths: [classic.get(v)!] });
    else if (v2.has(v)) checkpoints.push({ version: v, kind: 'v2', paths: [v2.get(v)!] });
  }
  return { commits, checkpoints, any: entries.length > 0 };
}
