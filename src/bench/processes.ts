// The lakestream child processes of a bench run (stream workers, producers) and what /proc says of
// them and of the cluster's nodes: CPU seconds and memory.

import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LakestreamError } from '../errors.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = resolve(ROOT, 'src/cli/main.ts');
/** A lakestream child process; its stderr is kept (last 64 KiB) for error messages and the producer's summary. */
export interface Child {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startLakestream(args: string[], env?: Record<string, string>): Child {
  const proc = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: env ? { ...process.env, ...env } : undefined,
  });
  return childOf(proc);
}

/** A spawned process (its stderr piped) as a Child: the end of its stderr kept, its exit awaited. */
export function childOf(proc: ChildProcess): Child {
  let err = '';
  proc.stderr?.on('data', (d) => {
    err = (err + d).slice(-65_536);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('close', (code, signal) => r({ code, signal })),
  );
  return { proc, stderr: () => err, exited };
}

/** Messages the producer reports as sent and acknowledged: its summary line `done: N messages …`
 * (`stopped:` after --limit or Ctrl-C: also acknowledged, it stops after the batch in flight). */
export function producedCount(stderr: string): number | undefined {
  const m = /(?:^|\n)(?:done|stopped): ([\d,]+) messages/.exec(stderr);
  return m ? Number(m[1].replaceAll(',', '')) : undefined;
}

/** CPU seconds (user + system) and resident memory of a process, from /proc; undefined once it is gone. */
export async function procStat(
  pid: number | undefined,
): Promise<{ cpuS: number; rssMiB: number; openFiles: number } | undefined> {
  if (!pid) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that ends the command name: utime and stime are fields 14 and 15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    return {
      cpuS: (Number(f[11]) + Number(f[12])) / 100,
      rssMiB: rss ? Math.round(Number(rss[1]) / 1024) : 0,
      openFiles: fds.length,
    };
  } catch {
    return undefined;
  }
}

/** A meters stream worker for a bench run: quiet, no retraining, in the run's own consumer group. */
export function startWorker(e: {
  group: string;
  transportUrl: string;
  lakeUrl: string;
  /** `stream --delivery-log FILE`: record what the transport hands it, to count redeliveries */
  deliveryLog?: string;
  env?: Record<string, string>;
}): Child {
  return startLakestream(
    [
      'stream',
      ...(e.deliveryLog ? ['--delivery-log', e.deliveryLog] : []),
      '--quiet',
      '--retrain',
      'off',
      '--group',
      e.group,
      '--transport',
      e.transportUrl,
      '--lake',
      e.lakeUrl,
    ],
    e.env,
  );
}

/** Process ids of the cluster's nodes (those running), for CPU and memory samples. */
export async function clusterPids(
  clusterDir: string | undefined,
): Promise<() => Record<string, number | undefined>> {
  if (!clusterDir) return () => ({});
  const { alivePid } = await import('../cluster/processes.ts');
  const { ALL_NODES } = await import('../cluster/config.ts');
  return () => Object.fromEntries(ALL_NODES.map((n) => [n, alivePid(clusterDir, n)]));
}

/**
 * LAKESTREAM_PORT_OFFSET: the ports of a cluster a bench run starts (one already up keeps those saved in
 * its dir), so a run beside the CI's cluster can keep off the default ports.
 */
export function portOffsetFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.LAKESTREAM_PORT_OFFSET;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 50_000)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `LAKESTREAM_PORT_OFFSET is a whole number of ports from 0 to 50000, not "${v}"`,
    );
  return n;
}
