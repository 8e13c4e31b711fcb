// The producer loop: a source's batches → Producer.send, paced by rate or event time, with progress,
// a final summary, and a clean stop (after the batch in flight is acknowledged) on abort.

import { LakestreamError } from '../errors.ts';
import type { Transport } from '../transport/index.ts';
import { openSource, type SourceOptions } from './open-source.ts';
import { EventClock, RatePacer, sleep } from './pacing.ts';
import type { ProducerPosition } from './position.ts';
import type { FileStats, Source, SourceMessage } from './source.ts';

export interface ProduceOptions extends SourceOptions {
  /** messages per second, or 'max' (default) for no pacing */
  rate?: number | 'max';
  /** event-time speed-up: 86400 sends one day of readings per second */
  speed?: number;
  /** stop after this many messages */
  limit?: number;
  /** messages per Producer.send (default 5000) */
  batchSize?: number;
  /** aborting stops the loop after the send in flight is acknowledged */
  signal?: AbortSignal;
  /** how often onProgress is called, ms (default 1000) */
  progressEveryMs?: number;
  /**
   * a durable position: the messages it records as acknowledged are skipped (a resumed run), and it
   * is committed after every acknowledged send
   */
  position?: ProducerPosition;
}

export interface ProduceProgress {
  source: string;
  sent: number;
  unparsed: number;
  elapsedMs: number;
  /** messages per second since the start */
  rate: number;
  /** 0..1 through the input, when known */
  fraction?: number;
  etaSeconds?: number;
  done: boolean;
}

export interface ProduceSummary {
  source: string;
  topic: string;
  /** messages acknowledged by the transport, unparsed rows included */
  sent: number;
  /** source rows sent as {"unparsed": …} for the worker to quarantine */
  unparsed: number;
  /** rows deliberately not sent (UCI gaps) */
  skipped: number;
  seconds: number;
  rate: number;
  /** per input file (or the simulated fleet) */
  files: FileStats[];
  /** true when stopped early by the signal or --limit */
  stopped: boolean;
  /** true when --limit stopped it */
  limited: boolean;
  /** messages skipped because an earlier run of the same command had them acknowledged (its position) */
  resumed: number;
}

/** Sends a source's messages to the transport; resolves with the summary when done or stopped. */
export async function produce(
  opts: ProduceOptions,
  transport: Transport,
  onProgress?: (p: ProduceProgress) => void,
): Promise<ProduceSummary> {
  const source = await openSource(opts);
  return produceFrom(source, opts, transport, onProgress);
}

export async function produceFrom(
  source: Source,
  opts: Omit<ProduceOptions, keyof SourceOptions> = {},
  transport: Transport,
  onProgress?: (p: ProduceProgress) => void,
): Promise<ProduceSummary> {
  const batchSize = opts.batchSize ?? 5000;
  const rate = opts.rate === undefined || opts.rate === 'max' ? undefined : opts.rate;
  if (rate !== undefined && !(rate > 0))
    throw new LakestreamError('BAD_ARGUMENT', `--rate must be > 0 or "max", got ${rate}`);
  if (opts.speed !== undefined && !(opts.speed > 0))
    throw new LakestreamError('BAD_ARGUMENT', `--speed must be > 0, got ${opts.speed}`);
  // --limit counts from the source's start, so a resumed run stops where the first would have
  const resumed = opts.position?.resumedAt ?? 0;
  const limit = (opts.limit ?? Number.POSITIVE_INFINITY) - resumed;
  const pacer = rate !== undefined ? new RatePacer(rate) : undefined;
  const clock = opts.speed !== undefined ? new EventClock(opts.speed, source.clockStart) : undefined;
  const chunkMax = pacer ? pacer.chunk(batchSize) : batchSize;
  const signal = opts.signal;

  await transport.ensureTopic(source.topic);
  const producer = await transport.producer();
  const t0 = performance.now();
  let sent = 0;
  let unparsed = 0;
  let stopped = false;
  let firstSend: number | undefined;
  const every = opts.progressEveryMs ?? 1000;

  const progress = (done: boolean): ProduceProgress => {
    const elapsedMs = performance.now() - t0;
    const r = elapsedMs > 0 ? (sent * 1000) / elapsedMs : 0;
    // this run's share of the input: a resumed run has `resumed` messages behind it already
    const total = source.total === undefined ? undefined : source.total - resumed;
    const end = Number.isFinite(limit) ? Math.min(limit, total ?? limit) : total;
    let fraction = source.total ? (resumed + sent) / source.total : source.fraction();
    // with --limit the end is the limit when that comes first
    if (Number.isFinite(limit) && sent > 0 && end !== undefined)
      fraction = (resumed + sent) / (resumed + end);
    if (done && !stopped) fraction = 1;
    let etaSeconds: number | undefined;
    // the ETA uses the sending rate: a time-ordered replay spends its first seconds reading
    const sendingMs = firstSend !== undefined ? performance.now() - firstSend : 0;
    const sendRate = sendingMs > 0 ? (sent * 1000) / sendingMs : 0;
    if (end !== undefined && sendRate > 0) etaSeconds = (end - sent) / sendRate;
    else if (fraction !== undefined && fraction > 0.01)
      etaSeconds = ((1 - fraction) * elapsedMs) / fraction / 1000;
    return { source: source.name, sent, unparsed, elapsedMs, rate: r, fraction, etaSeconds, done };
  };

  const send = async (ms: SourceMessage[]) => {
    if (ms.length === 0) return;
    if (pacer) await pacer.take(ms.length, signal);
    if (signal?.aborted) return; // stopped while waiting: this chunk was never sent
    firstSend ??= performance.now();
    await producer.send(source.topic, ms);
    sent += ms.length;
    for (const m of ms) if (m.unparsed) unparsed++;
    // only now acknowledged: a kill before this line re-sends the chunk, never skips it
    await opts.position?.commit(resumed + sent, ms[ms.length - 1].time);
  };
  // a timer, not the send loop, reports: a time-ordered replay reads its whole input before sending
  const timer = onProgress ? setInterval(() => onProgress(progress(false)), every) : undefined;

  let toSkip = resumed;
  try {
    outer: for await (const batch of source.batches()) {
      // a resumed run regenerates the source in the same order and passes over what was acknowledged
      let i = Math.min(toSkip, batch.length);
      toSkip -= i;
      const end = Math.min(batch.length, i + limit - sent);
      while (i < end) {
        if (signal?.aborted) {
          stopped = true;
          break outer;
        }
        let j = Math.min(end, i + chunkMax);
        if (clock) {
          // send only what is due; wait for the next message's event time otherwise
          const due = clock.dueAt(batch[i].time);
          const now = performance.now();
          if (due > now) {
            await sleep(due - now, signal);
            continue;
          }
          let k = i + 1;
          while (k < j && clock.dueAt(batch[k].time) <= now) k++;
          j = k;
        }
        await send(batch.slice(i, j));
        i = j;
      }
      if (sent >= limit) {
        stopped = true;
        break;
      }
    }
  } finally {
    clearInterval(timer);
    await producer.close();
  }
  if (signal?.aborted) stopped = true;
  onProgress?.(progress(true));
  const seconds = (performance.now() - t0) / 1000;
  const files = source.stats();
  return {
    source: source.name,
    topic: source.topic,
    sent,
    unparsed,
    skipped: files.reduce((s, f) => s + f.skipped, 0),
    seconds,
    rate: seconds > 0 ? sent / seconds : 0,
    files,
    stopped,
    limited: sent >= limit,
    resumed,
  };
}
