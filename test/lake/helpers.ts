// Shared fixtures for the lake tests: a fresh lake per test (memory or a temp directory), sample rows.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lake, type Row, type TableSpec } from '../../src/lake/index.ts';

export const READINGS: TableSpec = {
  schema: [
    { name: 'meter_id', type: 'string', nullable: false },
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'value', type: 'double' },
    { name: 'seq', type: 'long' },
    { name: 'day', type: 'string', nullable: false },
  ],
  partitionColumns: ['day'],
};

export function readings(n: number, from = 0, meter = 'MAC000002'): Row[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const ts = new Date(Date.UTC(2013, 0, 1) + i * 30 * 60_000);
    return {
      meter_id: meter,
      ts,
      value: Math.round(i * 7.3) / 100,
      seq: BigInt(i),
      day: ts.toISOString().slice(0, 10),
    };
  });
}

let n = 0;
/** A new empty lake: `memory:` or a fresh temp directory (`file:`). */
export async function freshLake(kind: 'memory' | 'file' = 'file'): Promise<Lake> {
  if (kind === 'memory') return Lake.open(`memory:lake-test-${process.pid}-${++n}`);
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-lake-test-'));
  return Lake.open(`file:${dir}`);
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lakestream-lake-test-'));
}

export async function count(lake: Lake, table: string, where = 'true'): Promise<number> {
  const view = table.replace(/[/-]/g, '_');
  const r = await lake.query(`SELECT count(*) AS n FROM ${view} WHERE ${where}`);
  return Number(r.rows[0].n);
}
