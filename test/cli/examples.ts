// The examples users copy: every "Examples:" line of every command's --help and every lakestream line
// of the README's ```sh blocks, as runnable argument lists, each run in a copy of a prepared folder.
//
// Where an example runs: in <tmp>/lakestream (cwd) with <tmp>/shared linked to ../shared beside this
// checkout, so "../shared/data/…" resolves as in the docs, and .lakestream/{log,lake} holding the
// prepared short replay, so an example without --transport/--lake reads it as the defaults.
// Examples on the local cluster (a kafka:// or webhdfs:// URL, --engine spark, cluster up/down/…,
// a cluster benchmark) are told apart by needsCluster and run in the cluster phase
// (test/cli/cluster-examples.cluster.test.ts), never skipped.

import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { helpText } from '../../src/cli/command.ts';
import { COMMANDS } from '../../src/cli/main.ts';
import { MAIN, ROOT } from '../helpers/cli.ts';

export interface Example {
  /** where it is written: "sql --help" or "README.md:57" */
  from: string;
  /** the line as written */
  line: string;
  /** the arguments after "lakestream" */
  args: string[];
}

/** Splits a command line as a POSIX shell would for these simple lines: quotes, no expansion. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (quote) throw new Error(`unbalanced quote in: ${line}`);
  if (has || cur) out.push(cur);
  return out;
}

/** The lakestream commands of one shell line ("npm ci && npx lakestream demo   # comment"). */
export function commandsOfLine(line: string): string[][] {
  const code = line.replace(/(^|\s)#.*$/, '');
  return code
    .split(/&&|;/)
    .map((part) => tokenize(part.trim()))
    .filter((t) => t[0] === 'lakestream' || (t[0] === 'npx' && t[1] === 'lakestream'))
    .map((t) => t.slice(t[0] === 'npx' ? 2 : 1));
}

/** Lines under an "Example:"/"Examples:" heading of each command's --help, up to the next blank line. */
export async function helpExamples(): Promise<Example[]> {
  const out: Example[] = [];
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const lines = helpText(await entry.load()).split('\n');
    let inExamples = false;
    for (const l of lines) {
      if (/Examples?:\s*$/.test(l)) {
        inExamples = true;
        continue;
      }
      if (l.trim() === '') inExamples = false;
      if (inExamples && /^\s+(npx\s+)?lakestream\s/.test(l))
        for (const args of commandsOfLine(l.trim()))
          out.push({ from: `${name} --help`, line: l.trim(), args });
    }
  }
  return out;
}

/** lakestream lines of the README's shell code blocks (```sh, ```bash, ```shell); a plain block is a synopsis. */
export async function readmeExamples(file = join(ROOT, 'README.md')): Promise<Example[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const out: Example[] = [];
  let block: string | undefined;
  for (const [i, l] of lines.entries()) {
    const fence = /^```(\w*)/.exec(l);
    if (fence) {
      block = block === undefined ? fence[1] : undefined;
      continue;
    }
    if (block !== undefined && /^(sh|bash|shell|console)$/.test(block))
      for (const args of commandsOfLine(l.replace(/^\$\s*/, '')))
        out.push({ from: `README.md:${i + 1}`, line: l.trim(), args });
  }
  return out;
}

/** Does the example need the local cluster (Kafka, HDFS, Spark)? Told by its command and flags. */
export function needsCluster(args: string[]): boolean {
  const text = args.join(' ');
  if (/kafka:\/\/|webhdfs:\/\//.test(text)) return true;
  if (/--engine[= ]spark\b/.test(text) || /--spark\b/.test(text)) return true;
  if (args[0] === 'cluster') return true;
  if (args[0] === 'bench' && ['kafka', 'hdfs', 'baseline', 'stress', 'resilience'].includes(args[1] ?? ''))
    return !/--engines[= ]embedded\b/.test(text);
  return false;
}

/** A server (serve, or demo without --no-serve): run until it serves, then Ctrl-C. */
export function isServer(args: string[]): boolean {
  return args[0] === 'serve' || (args[0] === 'demo' && !args.includes('--no-serve'));
}

/** A folder laid out as the docs assume (see the header); `prepared` is copied into its .lakestream. */
export async function exampleHome(prepared?: string): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'lakestream-example-'));
  const cwd = join(base, 'lakestream');
  await mkdir(cwd);
  await symlink(resolve(ROOT, '../shared'), join(base, 'shared'), 'dir');
  if (prepared) await cp(prepared, join(cwd, '.lakestream'), { recursive: true });
  return cwd;
}

/**
 * The short replay the examples assume has run (20,000 London readings streamed into the default
 * lake): returns the .lakestream folder to hand to exampleHome; removeHome(join(it, '..')) removes it.
 */
export async function preparedReplay(): Promise<string> {
  const home = await exampleHome();
  for (const args of [
    [
      'produce',
      '--source',
      'london-halfhourly',
      '--file',
      '../shared/data/meters/london/halfhourly_2013_20_households.csv.gz',
      '--limit',
      '20000',
      '-q',
    ],
    ['stream', '--drain', '--retrain', 'off', '-q'],
  ]) {
    const r = await runExample(args, home);
    if (r.code !== 0)
      throw new Error(`preparing the examples' replay: lakestream ${args.join(' ')}\n${r.stderr}`);
  }
  return join(home, '.lakestream');
}

/** Removes a folder made by exampleHome (a demo's lake there is hundreds of MB). */
export async function removeHome(cwd: string): Promise<void> {
  await rm(dirname(cwd), { recursive: true, force: true });
}

export interface ExampleRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an example in `cwd`; a server runs until it prints its URL and then gets SIGINT. */
export function runExample(
  args: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
  timeoutMs = 600_000,
): Promise<ExampleRun> {
  // a server example listens on a free port, not on 3000 that another dashboard may hold
  const argv = isServer(args) && !args.includes('--port') ? [...args, '--port', '0'] : args;
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [MAIN, ...argv], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    const serving = () => {
      if (!stopped && isServer(args) && /https?:\/\/127\.0\.0\.1:\d+/.test(stdout + stderr)) {
        stopped = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      serving();
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      serving();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lakestream ${argv.join(' ')} timed out\n${stderr.slice(-3000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}
