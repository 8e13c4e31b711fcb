// `stream --batch-every 1d`: the batch view run periodically beside the stream worker, one run at a
// time. A run is safe to repeat or to stop (src/batch/run.ts), so the schedule needs no state of its
// own: a restarted stream simply runs the view again after its first period.

import { LakestreamError } from '../errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '90s', '15m', '6h', '1d', '500ms' as milliseconds. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]] : Number.NaN;
  if (!(ms > 0))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--${flag} must be a duration like 30s, 15m, 6h or 1d, got "${value}"`,
    );
  return ms;
}

export interface Schedule {
  /** stops the schedule: no new run starts; resolves once a run under way has finished */
  stop(): Promise<void>;
}

/** Runs `run` every `everyMs` (from the end of one run to the start of the next) until stopped. */
export function every(
  everyMs: number,
  run: (signal: AbortSignal) => Promise<void>,
  onError: (e: unknown) => void,
): Schedule {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const next = () => {
    timer = setTimeout(() => {
      current = run(ac.signal)
        .catch((e) => {
          if (!ac.signal.aborted) onError(e);
        })
        .finally(() => {
          if (!ac.signal.aborted) next();
        });
    }, everyMs);
  };
  next();
  return {
    async stop() {
      ac.abort();
      clearTimeout(timer);
      await current;
    },
  };
}
