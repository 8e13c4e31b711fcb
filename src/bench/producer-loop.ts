// The fault runs' producer: a loop of one-simulated-day segments, each a `lakestream produce` that keeps
// its position in a file, so a producer killed (or failed) mid-segment is restarted with the same command
// and resumes after its acknowledged readings, as a device would.

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
 * The watchdog's verdict on a segment running since `started`: 'stalled' once it ran `limitMs` while the
 * cluster accepted writes, else the ms to wait before asking again (a second while a fault is in
 * progress: its refusal, if any, is known only when it is over).
 */
export function watchdogVerdict(
  started: number,
  now: number,
  limitMs: number,
  refusals: readonly Refusal[],
  inFault: boolean,
): 'stalled' | number {
  if (inFault) return 1000;
  const left = limitMs - acceptingMs(started, now, refusals);
  return left > 0 ? left : 'stalled';
}

export class ProducerLoop {
  /** readings acknowledged in completed segments */
  acknowledged = 0;
  /** segments produced to their end, in order (segment n is the n-th simulated day) */
  segments = 0;
  /** runs restarted after a kill or a failure (each resumes from its position) */
  restarts = 0;
  /** segments that overran their pace while the cluster accepted writes (see acceptingMs) */
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
      // a producer whose segment takes far longer than its pace allows while the cluster accepts writes
      // is stuck (issue 16 item 5): end it and restart it (it resumes), and count it in the report
      const paceS = (this.o.meters * 48) / this.o.rate;
      const limitMs = (2 * paceS + 45) * 1000;
      const started = Date.now();
      let watchdog: NodeJS.Timeout | undefined;
      const check = () => {
        const v = watchdogVerdict(started, Date.now(), limitMs, this.refusals, this.inFault);
        if (v !== 'stalled') {
          watchdog = setTimeout(check, v);
          return;
        }
        this.stalls++;
        log(
          `  producer segment ${this.segments} stalled (over ${Math.round(limitMs / 1000)} s while the cluster accepted writes): killed and restarted; it had printed:\n${child.stderr().slice(-600) || '(nothing)'}`,
        );
        child.proc.kill('SIGKILL');
      };
      watchdog = setTimeout(check, limitMs);
      const { code, signal } = await child.exited;
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
