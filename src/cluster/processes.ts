// Cluster processes: Java daemons spawned detached with a pid file and a log file, found again by pid
// (checked against their command line, so a reused pid is never mistaken for ours), stopped by pid.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LakestreamError } from '../errors.ts';
import type { NodeName } from './config.ts';

export function javaBin(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

export function pidFile(dir: string, node: NodeName): string {
  return join(dir, 'run', `${node}.pid`);
}

export function logFile(dir: string, node: NodeName): string {
  return join(dir, 'logs', `${node}.log`);
}

/** JVM flags that tag a process as this cluster's node; `alivePid` looks for them. */
function tags(dir: string, node: string): string[] {
  return [`-Dlakestream.node=${node}`, `-Dlakestream.cluster=${dir}`];
}

export interface JavaDaemon {
  dir: string;
  node: NodeName;
  classpath: string;
  mainClass: string;
  args: string[];
  jvm: string[];
  env?: Record<string, string>;
}

/** Starts a JVM that outlives this process; its stdout and stderr go to logs/<node>.log. Returns its pid. */
export async function startDaemon(d: JavaDaemon): Promise<number> {
  await mkdir(join(d.dir, 'run'), { recursive: true });
  await mkdir(join(d.dir, 'logs'), { recursive: true });
  const log = logFile(d.dir, d.node);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(
      javaBin(),
      [...tags(d.dir, d.node), ...d.jvm, '-cp', d.classpath, d.mainClass, ...d.args],
      {
        detached: true,
        stdio: ['ignore', fd, fd],
        cwd: d.dir,
        env: { ...process.env, ...d.env },
      },
    );
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('spawn', () => resolvePid(child.pid!));
      child.once('error', (e) =>
        reject(
          new LakestreamError(
            'UNAVAILABLE',
            `cannot start ${d.node} with "${javaBin()}": ${e.message} (is Java 17+ installed?)`,
            { cause: e, retriable: false },
          ),
        ),
      );
    });
    child.unref();
    await writeFile(pidFile(d.dir, d.node), `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

export interface JavaRun {
  classpath: string;
  mainClass: string;
  args: string[];
  jvm?: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** names the run in errors */
  what: string;
  /** kill it after this long (default: never) */
  timeoutMs?: number;
}

/** Runs a Java tool to completion; rejects with its output when it fails. */
export function runJava(opts: JavaRun): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolveOut, reject) => {
    const child = spawn(
      javaBin(),
      [...(opts.jvm ?? []), '-cp', opts.classpath, opts.mainClass, ...opts.args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => {
      stdout += b;
    });
    child.stderr.on('data', (b) => {
      stderr += b;
    });
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('error', (e) =>
      reject(
        new LakestreamError('UNAVAILABLE', `cannot run java for ${opts.what}: ${e.message}`, { cause: e }),
      ),
    );
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveOut({ stdout, stderr });
      else
        reject(
          new LakestreamError(
            signal === 'SIGKILL' && opts.timeoutMs !== undefined ? 'TIMEOUT' : 'INTERNAL',
            `${opts.what} failed (${signal ?? `exit ${code}`}):\n${`${stderr}\n${stdout}`.trim().slice(-3000)}`,
          ),
        );
    });
  });
}

function pidIsOurs(pid: number, dir: string, node: NodeName): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return tags(dir, node).every((t) => cmdline.includes(t));
  } catch {
    // no /proc (not Linux): trust a live pid
    try {
      process.kill(pid, 0);
      return process.platform !== 'linux';
    } catch {
      return false;
    }
  }
}

/** The pid of the node when it runs (pid file present, process alive and really that node), else undefined. */
export function alivePid(dir: string, node: NodeName): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(dir, node), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return pidIsOurs(pid, dir, node) ? pid : undefined;
}

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveOpen(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The kernel's range of ephemeral ports (Linux: ip_local_port_range), from which outgoing connections
 * and listeners on port 0 (Spark's driver and block managers) take theirs; undefined where unknown.
 */
export function ephemeralPortRange(
  file = '/proc/sys/net/ipv4/ip_local_port_range',
): [number, number] | undefined {
  try {
    const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(low) && Number.isInteger(high) && low <= high ? [low, high] : undefined;
  } catch {
    return undefined;
  }
}

/** The last lines of a node's log, for error messages. */
export function logTail(dir: string, node: NodeName, lines = 25): string {
  try {
    return readFileSync(logFile(dir, node), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `check` until it returns true; fails early when the node's process died (naming its log),
 * and with TIMEOUT after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; dir: string; node?: NodeName; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (opts.node && alivePid(opts.dir, opts.node) === undefined)
      throw new LakestreamError(
        'UNAVAILABLE',
        `${opts.node} exited while waiting for ${what}; see ${logFile(opts.dir, opts.node)}:\n${logTail(opts.dir, opts.node)}`,
        { retriable: false },
      );
    if (Date.now() > deadline)
      throw new LakestreamError(
        'TIMEOUT',
        `timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${what}` +
          (opts.node ? `; see ${logFile(opts.dir, opts.node)}:\n${logTail(opts.dir, opts.node)}` : ''),
      );
    await sleep(opts.intervalMs ?? 250);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops a node by its pid: SIGTERM, then SIGKILL after `graceMs`. Only a process whose command line
 * names this node of this cluster is signalled. Returns false when it was not running.
 */
export async function stopNode(
  dir: string,
  node: NodeName,
  opts: { graceMs?: number; signal?: 'SIGTERM' | 'SIGKILL' } = {},
): Promise<boolean> {
  const pid = alivePid(dir, node);
  if (pid === undefined) {
    await rm(pidFile(dir, node), { force: true });
    return false;
  }
  process.kill(pid, opts.signal ?? 'SIGTERM');
  const deadline = Date.now() + (opts.graceMs ?? 20_000);
  while (isAlive(pid) && pidIsOurs(pid, dir, node)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await sleep(200);
      break;
    }
    await sleep(100);
  }
  await rm(pidFile(dir, node), { force: true });
  return true;
}

/**
 * Processes that are no node but carry this cluster's tags under another name (Spark's executors, which
 * the worker launches), found by their command line in /proc.
 */
export function taggedPids(dir: string, name: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const want = tags(dir, name);
  return entries.map(Number).filter((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return want.every((t) => cmdline.includes(t));
    } catch {
      return false;
    }
  });
}

/** Stops every process tagged `name` of this cluster: SIGTERM, SIGKILL after `graceMs`. Returns how many. */
export async function stopTagged(
  dir: string,
  name: string,
  opts: { graceMs?: number } = {},
): Promise<number> {
  const pids = taggedPids(dir, name);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + (opts.graceMs ?? 10_000);
  while (taggedPids(dir, name).length > 0 && Date.now() < deadline) await sleep(100);
  for (const pid of taggedPids(dir, name)) process.kill(pid, 'SIGKILL');
  return pids.length;
}

/** Reads a pid file without checking the process (for status output). */
export async function recordedPid(dir: string, node: NodeName): Promise<number | undefined> {
  try {
    const n = Number((await readFile(pidFile(dir, node), 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
