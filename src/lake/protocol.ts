// Which Delta protocol versions and table features lakestream reads and writes (PROTOCOL "Table
// Features"). Anything else is refused by name, never read wrongly.

import { LakestreamError } from '../errors.ts';
import type { MetadataAction, ProtocolAction } from './actions.ts';
import { columnMappingMode } from './column-mapping.ts';
import type { Field } from './schema.ts';

/** The protocol lakestream writes for new tables: reader 1 / writer 2 (appendOnly and invariants honoured). */
export const WRITE_PROTOCOL: ProtocolAction = { minReaderVersion: 1, minWriterVersion: 2 };

/** Reader features whose data lakestream reads correctly. */
const READER_FEATURES = new Set([
  'columnMapping',
  'deletionVectors',
  'timestampNtz',
  'vacuumProtocolCheck',
  'v2Checkpoint',
  'typeWidening',
  'typeWidening-preview',
]);
/**
 * Writer features whose rules lakestream's writer keeps. deletionVectors: lakestream writes no DVs;
 * it removes a file with its DV and drops the DV's rows when it rewrites one.
 */
const WRITER_FEATURES = new Set(['appendOnly', 'invariants', 'deletionVectors']);

const LEGACY_WRITER: Record<number, string[]> = {
  3: ['checkConstraints'],
  4: ['changeDataFeed', 'generatedColumns'],
  5: ['columnMapping'],
  6: ['identityColumns'],
};

export function checkReadable(p: ProtocolAction, m: MetadataAction, where: string): void {
  const r = Number(p.minReaderVersion);
  if (!(r >= 1 && r <= 3))
    throw new LakestreamError(
      'UNSUPPORTED',
      `${where}: Delta reader version ${p.minReaderVersion} is not supported (lakestream reads versions 1-3)`,
    );
  if (r === 3) {
    for (const f of p.readerFeatures ?? [])
      if (!READER_FEATURES.has(f))
        throw new LakestreamError(
          'UNSUPPORTED',
          `${where}: the table uses the Delta feature "${f}", which lakestream does not support`,
        );
  }
  void m;
}

export function checkWritable(p: ProtocolAction, m: MetadataAction, schema: Field[], where: string): void {
  const w = Number(p.minWriterVersion);
  if (w > 7 || !(w >= 1))
    throw new LakestreamError(
      'UNSUPPORTED',
      `${where}: Delta writer version ${p.minWriterVersion} is not supported`,
    );
  if (w >= 3 && w <= 6) {
    const feats = Object.entries(LEGACY_WRITER)
      .filter(([v]) => Number(v) <= w)
      .flatMap(([, f]) => f);
    throw new LakestreamError(
      'UNSUPPORTED',
      `${where}: writing needs Delta writer version ${w} (features ${feats.join(', ')}); lakestream writes up to version 2`,
    );
  }
  if (w === 7)
    for (const f of p.writerFeatures ?? [])
      if (!WRITER_FEATURES.has(f))
        throw new LakestreamError(
          'UNSUPPORTED',
          `${where}: writing needs the Delta feature "${f}", which lakestream does not support`,
        );
  const mode = columnMappingMode(m);
  if (mode !== 'none')
    throw new LakestreamError(
      'UNSUPPORTED',
      `${where}: writing needs the Delta feature "columnMapping" (mode ${mode}), which lakestream reads but does not write`,
    );
  if (schema.some((f) => f.metadata?.['delta.invariants'] !== undefined))
    throw new LakestreamError(
      'UNSUPPORTED',
      `${where}: the table has column invariants (feature "invariants"); lakestream cannot check them`,
    );
}

export function isAppendOnly(m: MetadataAction): boolean {
  return m.configuration?.['delta.appendOnly'] === 'true';
}
