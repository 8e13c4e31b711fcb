// When to send: by rate (messages per second, or 'max') or by event time × a speed-up factor.
// Pacing only delays sends; it never changes a message's event time.

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A rate limiter: the k-th message (from 0) may leave at start + k / rate. A sender that falls behind may
 * catch up by at most `burstSeconds` of messages, not by everything it missed.
 */
export class RatePacer {
  readonly rate: number;
  private readonly burstMs: number;
  private start = -1;
  private granted = 0;

  constructor(rate: number, burstSeconds = 0.5) {
    this.rate = rate;
    this.burstMs = burstSeconds * 1000;
  }

  /** How many messages to send at once so that sends stay smooth (about 20 per second). */
  chunk(max: number): number {
    return Math.max(1, Math.min(max, Math.floor(this.rate / 20)));
  }

  /** Waits until the next `n` messages may be sent (the first at once). */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    if (this.start < 0) this.start = now;
    let due = this.start + (this.granted * 1000) / this.rate;
    if (now - due > this.burstMs) {
      // fell far behind (a slow transport): forget the backlog instead of bursting it out
      this.start = now - (this.granted * 1000) / this.rate;
      due = now;
    }
    this.granted += n;
    await sleep(due - now, signal);
  }
}

/**
 * Event-time pacing: event time runs `speed` times faster than the wall clock from the first
 * message (or from `clockStart`, whichever is later: events before it are sent at once).
 */
export class EventClock {
  readonly speed: number;
  private readonly clockStart: number;
  private wallStart = -1;
  private eventStart = 0;

  constructor(speed: number, clockStart = Number.NEGATIVE_INFINITY) {
    this.speed = speed;
    this.clockStart = clockStart;
  }

  /** performance.now() at which a message of event time `t` is due (undefined time: now). */
  dueAt(t: number | undefined): number {
    const now = performance.now();
    if (t === undefined || !Number.isFinite(t)) return now;
    if (this.wallStart < 0) {
      this.wallStart = now;
      this.eventStart = Math.max(t, this.clockStart);
    }
    return this.wallStart + (Math.max(t, this.eventStart) - this.eventStart) / this.speed;
  }
}
