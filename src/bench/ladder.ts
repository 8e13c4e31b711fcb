// The train and batch benches climb a ladder of lake sizes with each engine. An engine that runs out of
// time (--minutes) or fails (out of memory, unreachable) at one rung is recorded there, with why, and not
// tried at the larger rungs; the other engines go on.

/** How an engine's run at a rung ended when it did not finish. */
export type RunStopped = { timedOut: true; failed?: undefined } | { failed: string; timedOut?: undefined };

/**
 * Records why `engine`'s run at `rung` stopped (`signal` aborted: out of time; else the error's first
 * line) in `skip`, which the ladder reads before each later run, and logs it.
 */
export function runStopped(
  err: unknown,
  signal: AbortSignal,
  run: { engine: string; rung: string; minutes: number },
  skip: Map<string, string>,
  log: (line: string) => void,
): RunStopped {
  const { engine, rung, minutes } = run;
  if (signal.aborted) {
    skip.set(engine, `ran out of time (${minutes} min) at ${rung}`);
    log(`  ${engine}: stopped after ${minutes} min (--minutes); not tried at larger sizes`);
    return { timedOut: true };
  }
  const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  skip.set(engine, `failed at ${rung}: ${why}`);
  log(`  ${engine} failed: ${why}; not tried at larger sizes`);
  return { failed: why };
}
