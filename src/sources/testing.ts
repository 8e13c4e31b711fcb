// Test helpers for sources: collect messages as text, write small fixture files.

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { SourceMessage } from './source.ts';

export const DATA = new URL('../../../shared/data/', import.meta.url).pathname;

/** Up to `limit` messages of a batch stream (stops the stream early). */
export async function take(
  batches: AsyncIterable<SourceMessage[]>,
  limit = Number.POSITIVE_INFINITY,
): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const b of batches) {
    for (const m of b) {
      if (out.length >= limit) return out;
      out.push(m);
    }
    if (out.length >= limit) return out;
  }
  return out;
}

export const text = (m: SourceMessage) => Buffer.from(m.value).toString('utf8');
export const json = (m: SourceMessage) => JSON.parse(text(m));

/** Writes a fixture file (gzipped when the name ends in .gz) in a fresh temp dir; returns its path. */
export async function fixture(name: string, content: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-src-'));
  const path = join(dir, name);
  await mkdir(dirname(path), { recursive: true });
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  await writeFile(path, name.endsWith('.gz') ? gzipSync(bytes) : bytes);
  return path;
}
