// The fault runs' producer: a loop of one-simulated-day segments, each a `lakestream produce` that keeps
// its position in a file, so a producer killed (or failed) mid-segment is restarted with the same command
// and resumes after its acknowledged readings, as a device would.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Child, producedCount, startLakestream } from './processes.ts';
import { log, sleep } from './progress.ts';

/** The first simulated day; segment n is the day n days later (disjoint days: no reading repeats). */
export const FIRST_DAY = '2013-01-07';

export function segmentDay(n: number): string {
  const d = new Date(`${FIRST_DAY}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The `produce` arguments of segment n: the same on every restart, so the position file fits them. */
export function segmentArgs(
  n: number,
  o: { meters: number; rate: number; transportUrl: string; positionDir: string },
): string[] {
  return [
    'produce',
    '--source',
    'simulate',
    '--meters',
    String(o.meters),
    '--start',
    segmentDay(n),
    '--days',
    '1',
    '--interval',
    '30',
    '--rate',
    String(o.rate),
    '--quiet',
    '--position',
    join(o.positionDir, `segment-${n}.json`),
    '--transport',
    o.transportUrl,
  ];
}

/** `resumed after N messages` in a producer's summary: what an earlier run of the segment had acknowledged. */
function resumedCount(stderr: string): number {
  const m = /resumed after ([\d,]+) messages/.exec(stderr);
  return m ? Number(m[1].replaceAll(',', '')) : 0;
}

/** A span of wall-clock time (ms) in which the cluster refused writes; `to` unset while it lasts. */
export interface Refusal {
  from: number;
  to?: number;
}

/**
 * Milliseconds of [start, now] in which the cluster accepted writes: the segment's running time less
 * its overlap with the refusals. A producer refused by the cluster is waiting on it, not stalled.
 */
export function acceptingMs(start: number, now: number, refusals: readonly Refusal[]): number {
  let refused = 0;
  for (const r of refusals) refused += Math.max(0, Math.min(now, r.to ?? now) - Math.max(start, r.from));
  return now - start - refused;
}

/**
 * A producer is stalled when it has had nothing acknowledged for this long while the cluster accepted
 * writes: longer than the Kafka client's own retries (~45 s, after which a send fails and `produce`
 * exits), so a send left neither acknowledged nor failed (issue 16 item 5). A producer that is slow
 * but still acknowledged (a loaded machine) is not stalled.
 */
export const STALL_MS = 60_000;

/**
 * The watchdog's verdict on a segment whose last acknowledgement (or start) was at `progressAt`:
 * 'stalled' once it went `limitMs` without one while the cluster accepted writes, else the ms to wait
 * before asking again (at most a second, so new acknowledgements are seen; a second while a fault is
 * in progress: its refusal, if any, is known only when it is over).
 */
export function watchdogVerdict(
  progressAt: number,
  now: number,
  limitMs: number,
  refusals: readonly Refusal[],
  inFault: boolean,
): 'stalled' | number {
  if (inFault) return 1000;
  const left = limitMs - acceptingMs(progressAt, now, refusals);
  return left > 0 ? Math.min(left, 1000) : 'stalled';
}

/** What a segment's position file says is acknowledged (0 before its first commit, or unreadable). */
async function acknowledgedIn(file: string): Promise<number> {
  try {
    const n = (JSON.parse(await readFile(file, 'utf8')) as { acknowledged?: unknown }).acknowledged;
    return typeof n === 'number' ? n : 0;
  } catch {
    return 0;
  }
}

export class ProducerLoop {
  /** readings acknowledged in completed segments */
  acknowledged = 0;
  /** segments produced to their end, in order (segment n is the n-th simulated day) */
  segments = 0;
  /** runs restarted after a kill or a failure (each resumes from its position) */
  restarts = 0;
  /** segments that went STALL_MS without an acknowledgement while the cluster accepted writes (see acceptingMs) */
  stalls = 0;
  current: Child | undefined;
  private stopping = false;
  private paused: Promise<void> | undefined;
  private resume: (() => void) | undefined;
  private done: Promise<void> | undefined;

  private readonly refusals: Refusal[] = [];
  private inFault = false;
  private readonly o: { meters: number; rate: number; transportUrl: string; positionDir: string };

  constructor(o: { meters: number; rate: number; transportUrl: string; positionDir: string }) {
    this.o = o;
  }

  start(): void {
    this.done = this.loop();
  }

  /** Holds the next (re)start until resumeNow(): the producer stays dead while it is down. */
  hold(): void {
    this.paused = new Promise((r) => {
      this.resume = r;
    });
  }

  resumeNow(): void {
    this.resume?.();
    this.paused = undefined;
  }

  /**
   * A fault is in progress: a stall is not judged until it is over, since whether the cluster refused
   * writes meanwhile is known only once its probe is done (writesRefused).
   */
  faultBegins(): void {
    this.inFault = true;
  }

  /**
   * The cluster refuses writes since `since` (a fault's acks=all probe was refused): until faultOver(),
   * the watchdog does not count the time against the segment.
   */
  writesRefused(since: number): void {
    this.refusals.push({ from: since });
  }

  faultOver(at = Date.now()): void {
    for (const r of this.refusals) r.to ??= at;
    this.inFault = false;
  }

  /** Finishes the segment in flight and stops. */
  async finish(): Promise<void> {
    this.stopping = true;
    await this.done;
    this.stopping = false;
  }

  private async loop(): Promise<void> {
    // a segment that failed is always restarted, even when stopping: acknowledged counts whole segments
    for (;;) {
      if (this.paused) await this.paused;
      const child = startLakestream(segmentArgs(this.segments, this.o));
      this.current = child;
      // a producer that has nothing acknowledged for STALL_MS while the cluster accepts writes is stuck
      // (issue 16 item 5): end it and restart it (it resumes), and count it in the report. Its progress
      // is the acknowledged count in its position file, committed after each acknowledgement.
      const positionFile = join(this.o.positionDir, `segment-${this.segments}.json`);
      let progressAt = Date.now();
      let acked = await acknowledgedIn(positionFile);
      let watchdog: NodeJS.Timeout | undefined;
      let ended = false;
      const check = async () => {
        const n = await acknowledgedIn(positionFile);
        if (ended) return;
        if (n !== acked) {
          acked = n;
          progressAt = Date.now();
        }
        const v = watchdogVerdict(progressAt, Date.now(), STALL_MS, this.refusals, this.inFault);
        if (v !== 'stalled') {
          watchdog = setTimeout(() => void check(), v);
          return;
        }
        this.stalls++;
        log(
          `  producer segment ${this.segments} stalled (nothing acknowledged for ${STALL_MS / 1000} s while the cluster accepted writes, ${acked} so far): killed and restarted; it had printed:\n${child.stderr().slice(-600) || '(nothing)'}`,
        );
        child.proc.kill('SIGKILL');
      };
      watchdog = setTimeout(() => void check(), 1000);
      const { code, signal } = await child.exited;
      ended = true;
      clearTimeout(watchdog);
      this.current = undefined;
      const n = producedCount(child.stderr());
      if (code === 0 && n !== undefined) {
        this.acknowledged += resumedCount(child.stderr()) + n;
        this.segments++;
        if (this.stopping) return;
      } else {
        this.restarts++;
        log(
          `  producer segment ${this.segments} ended by ${signal ?? `exit ${code}`}: restarted, it resumes`,
        );
        if (!signal) log(child.stderr().slice(-600));
        await sleep(500);
      }
    }
  }
}
