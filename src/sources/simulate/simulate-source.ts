// The simulated fleet as a Source: generated in this thread, or in N worker threads each owning a
// slice of the meters (merged back in event-time order).

import { Worker } from 'node:worker_threads';
import { TOPICS } from '../../domain/topics.ts';
import { LakestreamError } from '../../errors.ts';
import type { FileStats, Source, SourceMessage } from '../source.ts';
import { type FleetBatch, type FleetSpec, generateFleet, intervalCount, meterId } from './fleet.ts';
import type { FleetWorkerData } from './fleet-worker.ts';

export const MAX_METERS = 1_000_000;

/** Meter ids by number, made once per meter (a fleet re-sends the same ids every interval). */
function idCache(spec: FleetSpec): (n: number) => string {
  const ids: string[] = [];
  return (n) => (ids[n] ??= meterId(n, spec.meters, spec.profile.kind));
}

function toMessages(b: FleetBatch, id: (n: number) => string): SourceMessage[] {
  const out: SourceMessage[] = new Array(b.ends.length);
  let start = 0;
  for (let i = 0; i < b.ends.length; i++) {
    out[i] = { key: id(b.meters[i]), value: b.bytes.subarray(start, b.ends[i]), time: b.times[i] };
    start = b.ends[i];
  }
  return out;
}

/**
 * Interleaves the threads' streams batch by batch, always taking the batch that starts earliest:
 * each thread is time-major, so the result is in time order up to one batch's span (a fraction of
 * an interval for big fleets), without a per-message merge on the sending thread.
 */
async function* interleaveBatches(inputs: AsyncIterable<SourceMessage[]>[]): AsyncGenerator<SourceMessage[]> {
  const its = inputs.map((i) => i[Symbol.asyncIterator]());
  try {
    const heads = await Promise.all(its.map((it) => it.next()));
    for (;;) {
      let best = -1;
      for (let k = 0; k < heads.length; k++) {
        const h = heads[k];
        if (h.done) continue;
        if (best === -1 || (h.value[0]?.time ?? 0) < ((heads[best].value as SourceMessage[])[0]?.time ?? 0))
          best = k;
      }
      if (best === -1) return;
      yield heads[best].value as SourceMessage[];
      heads[best] = await its[best].next();
    }
  } finally {
    // stopped early (--limit, Ctrl-C): end every thread, or they keep the process alive
    await Promise.all(its.map((it) => it.return?.()));
  }
}

async function* inThread(
  spec: FleetSpec,
  first: number,
  count: number,
  batchSize: number,
): AsyncGenerator<SourceMessage[]> {
  const id = idCache(spec);
  for (const b of generateFleet(spec, first, count, batchSize)) yield toMessages(b, id);
}

async function* inWorker(data: FleetWorkerData, id: (n: number) => string): AsyncGenerator<SourceMessage[]> {
  const worker = new Worker(new URL('./fleet-worker.ts', import.meta.url), { workerData: data });
  const queue: (FleetBatch | 'done' | Error)[] = [];
  let wake: (() => void) | null = null;
  const push = (x: FleetBatch | 'done' | Error) => {
    queue.push(x);
    wake?.();
  };
  worker.on('message', push);
  worker.on('error', (e) =>
    push(new LakestreamError('INTERNAL', `simulator thread failed: ${e.message}`, { cause: e })),
  );
  worker.on('exit', (code) =>
    push(code === 0 ? 'done' : new LakestreamError('INTERNAL', `simulator thread exited with ${code}`)),
  );
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      const x = queue.shift()!;
      if (x === 'done') return;
      if (x instanceof Error) throw x;
      worker.postMessage(1); // one more credit
      yield toMessages(x, id);
    }
  } finally {
    await worker.terminate();
  }
}

export interface SimulateOptions extends FleetSpec {
  threads: number;
  batchSize?: number;
}

export function simulateSource(o: SimulateOptions): Source {
  if (!Number.isInteger(o.meters) || o.meters < 1 || o.meters > MAX_METERS)
    throw new LakestreamError('BAD_ARGUMENT', `--meters must be 1 … ${MAX_METERS}, got ${o.meters}`);
  if (!(o.end > o.start))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      'the simulated period is empty (check --start, --days, --months)',
    );
  const { threads, batchSize = 5000, ...spec } = o;
  const total = intervalCount(spec) * spec.meters;
  const stats: FileStats = {
    label: `simulated ${spec.meters} meters (${spec.profile.name})`,
    messages: 0,
    unparsed: 0,
    skipped: 0,
  };
  const slices = Math.max(1, Math.min(threads, spec.meters));
  return {
    name: 'simulate',
    topic: TOPICS.readings,
    total,
    fraction: () => (total > 0 ? stats.messages / total : 1),
    stats: () => [stats],
    async *batches() {
      let inputs: AsyncIterable<SourceMessage[]>[];
      if (slices === 1) inputs = [inThread(spec, 0, spec.meters, batchSize)];
      else {
        inputs = [];
        const id = idCache(spec);
        for (let s = 0; s < slices; s++) {
          const first = Math.floor((s * spec.meters) / slices);
          const count = Math.floor(((s + 1) * spec.meters) / slices) - first;
          inputs.push(inWorker({ spec, first, count, batchSize }, id));
        }
      }
      const merged = inputs.length === 1 ? inputs[0] : interleaveBatches(inputs);
      for await (const b of merged) {
        stats.messages += b.length;
        yield b;
      }
    },
  };
}
