// A lock file so that two `cluster up`/`down` at once (two test files, two terminals) take turns.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LakestreamError } from '../errors.ts';

function holderAlive(file: string): boolean {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `f` holding <dir>/cluster.lock (or opts.name); waits for another holder, takes over a lock whose holder died. */
export async function withClusterLock<T>(
  dir: string,
  f: () => Promise<T>,
  opts: { timeoutMs?: number; onWait?: () => void; name?: string } = {},
): Promise<T> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, opts.name ?? 'cluster.lock');
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!holderAlive(file)) {
      // a pid file half-written is read as dead: give its writer a moment before removing it
      await sleep(100);
      if (!holderAlive(file)) await rm(file, { force: true });
      continue;
    }
    if (!told) {
      opts.onWait?.();
      told = true;
    }
    if (Date.now() > deadline)
      throw new LakestreamError('TIMEOUT', `another lakestream holds ${file} for too long`);
    await sleep(250);
  }
  try {
    return await f();
  } finally {
    await rm(file, { force: true });
  }
}
