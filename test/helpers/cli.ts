// Runs the lakestream CLI as a child process, as a user would, and captures its output.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DATA = resolve(ROOT, '../shared/data');
export const MAIN = join(ROOT, 'src/cli/main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = startCli(args, opts.env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lakestream ${args.join(' ')} timed out\n${stderr.slice(-2000)}`));
    }, opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI and fails with its stderr when it exits non-zero. */
export async function cli(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const r = await runCli(args, opts);
  if (r.code !== 0)
    throw new Error(
      `lakestream ${args.join(' ')} exited ${r.code}\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`,
    );
  return r;
}

/** A fresh embedded transport and local lake in a temp directory. */
export async function freshEngines(): Promise<{
  dir: string;
  transport: string;
  lake: string;
  /** --transport and --lake, for stream, status, serve */
  flags: string[];
  /** --transport only, for produce */
  produceFlags: string[];
}> {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-test-'));
  const transport = `embedded:${join(dir, 'log')}`;
  const lake = `file:${join(dir, 'lake')}`;
  return {
    dir,
    transport,
    lake,
    flags: ['--transport', transport, '--lake', lake],
    produceFlags: ['--transport', transport],
  };
}

export function requireData(path: string): string {
  const p = join(DATA, path);
  if (!existsSync(p))
    throw new Error(`test data missing: ${p} (the tests read ../shared/data beside the project)`);
  return p;
}
