// Event-time order for replays: k-way merge of time-ordered inputs, and an external sort for files
// grouped by meter (London and DAIAD list one meter after another): sorted runs spilled to disk.

import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceMessage } from './source.ts';

const OUT_BATCH = 2000;

/**
 * Merges inputs each in time order into one stream in time order. Ties go to the earlier input,
 * and messages without a time keep their place after their predecessor in the same input.
 */
export async function* mergeByTime(
  inputs: AsyncIterable<SourceMessage[]>[],
): AsyncGenerator<SourceMessage[]> {
  const its = inputs.map((i) => i[Symbol.asyncIterator]());
  const bufs: (SourceMessage[] | null)[] = inputs.map(() => []);
  const pos = inputs.map(() => 0);
  const last = inputs.map(() => Number.NEGATIVE_INFINITY);
  const fill = async (k: number) => {
    while (bufs[k] && pos[k] >= bufs[k]!.length) {
      const r = await its[k].next();
      bufs[k] = r.done ? null : r.value;
      pos[k] = 0;
    }
  };
  try {
    yield* mergeLoop();
  } finally {
    // stopped early: close every input (its file stream, its temp run)
    await Promise.all(its.map((it) => it.return?.()));
  }

  async function* mergeLoop(): AsyncGenerator<SourceMessage[]> {
    await Promise.all(its.map((_, k) => fill(k)));
    let out: SourceMessage[] = [];
    for (;;) {
      let best = -1;
      let bestTime = 0;
      for (let k = 0; k < its.length; k++) {
        const b = bufs[k];
        if (!b) continue;
        const t = b[pos[k]].time ?? last[k];
        if (best === -1 || t < bestTime) {
          best = k;
          bestTime = t;
        }
      }
      if (best === -1) break;
      const m = bufs[best]![pos[best]++];
      last[best] = bestTime;
      out.push(m);
      if (out.length >= OUT_BATCH) {
        yield out;
        out = [];
      }
      if (pos[best] >= bufs[best]!.length) await fill(best);
    }
    if (out.length > 0) yield out;
  }
}

export interface SortOptions {
  /** messages held in memory per sorted run (default 200,000, ~40 MB) */
  runSize?: number;
  /** where the runs are spilled (default the OS temp dir) */
  tmpDir?: string;
  /** called while the input is read, before the first message comes out */
  onSpill?: (messages: number) => void;
  /** called once the whole input is read, with its message count */
  onSorted?: (messages: number) => void;
}

/** Stable sort of the input by time, in bounded memory: runs sorted in memory, spilled, then merged. */
export async function* sortByTime(
  input: AsyncIterable<SourceMessage[]>,
  options: SortOptions = {},
): AsyncGenerator<SourceMessage[]> {
  const runSize = options.runSize ?? 200_000;
  let run: SourceMessage[] = [];
  let dir: string | undefined;
  const runFiles: string[] = [];
  let count = 0;
  let lastTime = Number.NEGATIVE_INFINITY;
  const sortRun = () => {
    // untimed messages (unparsed rows) sort with the message before them
    const keyed = run.map((m, i) => {
      if (m.time !== undefined) lastTime = m.time;
      return { m, t: m.time ?? lastTime, i };
    });
    keyed.sort((a, b) => a.t - b.t || a.i - b.i);
    return keyed;
  };
  try {
    for await (const batch of input) {
      for (const m of batch) run.push(m);
      count += batch.length;
      options.onSpill?.(count);
      if (run.length >= runSize) {
        dir ??= await mkdtemp(join(options.tmpDir ?? tmpdir(), 'lakestream-sort-'));
        const file = join(dir, `run-${runFiles.length}.tsv`);
        await writeRun(file, sortRun());
        runFiles.push(file);
        run = [];
      }
    }
    options.onSorted?.(count);
    const lastRun = sortRun().map((k) => ({ ...k.m, time: Number.isFinite(k.t) ? k.t : undefined }));
    run = [];
    if (runFiles.length === 0) {
      for (let i = 0; i < lastRun.length; i += OUT_BATCH) yield lastRun.slice(i, i + OUT_BATCH);
      return;
    }
    yield* mergeByTime([...runFiles.map(readRun), memoryRun(lastRun)]);
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

async function* memoryRun(ms: SourceMessage[]): AsyncGenerator<SourceMessage[]> {
  for (let i = 0; i < ms.length; i += OUT_BATCH) yield ms.slice(i, i + OUT_BATCH);
}

// A run file: per message a header line "time\tkeyLength\tvalueLength" (key length -1 = null,
// -2 = null and an unparsed row, so the producer still counts it after the sort)
// then the key and value bytes and "\n", so any bytes survive the round trip.
async function writeRun(file: string, run: { m: SourceMessage; t: number }[]): Promise<void> {
  const fh = await open(file, 'w');
  try {
    let parts: Buffer[] = [];
    let size = 0;
    for (const { m, t } of run) {
      const key = m.key === null ? null : Buffer.from(m.key, 'utf8');
      const head = Buffer.from(`${t}\t${key ? key.length : m.unparsed ? -2 : -1}\t${m.value.byteLength}\n`);
      parts.push(head);
      if (key) parts.push(key);
      parts.push(Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength));
      size += head.length + (key ? key.length : 0) + m.value.byteLength;
      if (size > 4 << 20) {
        await fh.write(Buffer.concat(parts));
        parts = [];
        size = 0;
      }
    }
    await fh.write(Buffer.concat(parts));
  } finally {
    await fh.close();
  }
}

async function* readRun(file: string): AsyncGenerator<SourceMessage[]> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer);
    const out: SourceMessage[] = [];
    let p = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, p);
      if (nl === -1) break;
      const [t, kl, vl] = buf.toString('latin1', p, nl).split('\t').map(Number);
      const need = nl + 1 + Math.max(kl, 0) + vl;
      if (need > buf.length) break;
      const key = kl < 0 ? null : buf.toString('utf8', nl + 1, nl + 1 + kl);
      const vs = nl + 1 + Math.max(kl, 0);
      // a row before any timed row has no time (-Infinity in the run file)
      out.push({
        key,
        value: Uint8Array.prototype.slice.call(buf, vs, vs + vl),
        time: Number.isFinite(t) ? t : undefined,
        ...(kl === -2 ? { unparsed: true as const } : {}),
      });
      p = need;
    }
    buf = buf.subarray(p);
    if (out.length) yield out;
  }
}
