// The `lakestream` command: finds the subcommand, parses its flags, runs it, turns errors into messages.

import { readFileSync } from 'node:fs';
import { describeError, LakestreamError } from '../errors.ts';
import { type Command, helpText, parseCommandArgs } from './command.ts';
import { didYouMean } from './suggest.ts';

/** Every command, loaded only when run (so `lakestream --help` starts fast); the examples test reads it too. */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  demo: {
    summary: 'run the whole pipeline on one machine: replay, stream, train, predict, serve',
    load: async () => (await import('./demo.ts')).default,
  },
  produce: {
    summary: 'send readings (replayed files, simulated meters, trace events) to the transport',
    load: async () => (await import('./produce.ts')).default,
  },
  stream: {
    summary: 'run a stream worker: transport → bronze/silver/gold Delta tables',
    load: async () => (await import('./stream.ts')).default,
  },
  status: {
    summary: 'lag per topic, rows per table, quarantine counts, last commit',
    load: async () => (await import('./status.ts')).default,
  },
  train: {
    summary: 'train a model on the lake (or a file) and register it',
    load: async () => (await import('./train.ts')).default,
  },
  model: {
    summary: 'evaluate a model against the baselines',
    load: async () => (await import('./model.ts')).default,
  },
  serve: {
    summary: 'serve the HTTP API and the dashboard',
    load: async () => (await import('./serve.ts')).default,
  },
  lake: {
    summary: 'inspect and maintain Delta tables: ls, history, show, import, optimize, vacuum',
    load: async () => (await import('./lake.ts')).default,
  },
  sql: {
    summary: 'run a read-only SQL query over the lake tables',
    load: async () => (await import('./sql.ts')).default,
  },
  batch: {
    summary: "recompute the batch view from the master data and show what it changes in the stream's tables",
    load: async () => (await import('./batch.ts')).default,
  },
  cluster: {
    summary: 'start, stop or inspect a local Kafka + HDFS cluster',
    load: async () => (await import('./cluster.ts')).default,
  },
  bench: {
    summary: 'run a benchmark scenario and write its report',
    load: async () => (await import('./bench.ts')).default,
  },
  profile: {
    summary: 'learn a meter profile for the simulator from real readings',
    load: async () => (await import('./profile.ts')).default,
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    'lakestream — a streaming lakehouse for meter data and cluster traces',
    '',
    'Usage: lakestream <command> [options]     (from a checkout: npx lakestream …)',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}${c.summary}`),
    '',
    'Run "lakestream <command> --help" (or "lakestream help <command>") for a command\'s options;',
    '"lakestream --version" prints the version. Conventions shared by every command: docs/cli.md.',
    'Start here: "npx lakestream demo" runs everything on this machine with embedded engines.',
  ].join('\n');
}

/** The version in package.json. */
export function version(): string {
  return (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

function unknownCommand(name: string): string {
  const guess = didYouMean(name, Object.keys(COMMANDS));
  return `lakestream: unknown command "${name}" — ${guess ? `${guess} ` : ''}run "lakestream --help" for the commands`;
}

/**
 * One error format: "lakestream <command>: <what> — <what to do>". A message that already names its
 * command ("lake show: …") is not prefixed twice.
 */
export function errorLine(name: string, e: LakestreamError): string {
  let msg = e.message;
  if (msg.startsWith(`${name}: `)) msg = msg.slice(name.length + 2);
  const sub = new RegExp(`^${name} ([a-z-]+): `).exec(msg);
  const prefix = sub ? `lakestream ${name} ${sub[1]}` : `lakestream ${name}`;
  if (sub) msg = msg.slice(sub[0].length);
  if (e.code === 'BAD_ARGUMENT' && !msg.includes(' — '))
    msg += ` — run "lakestream ${name} --help" for the options`;
  return `${prefix}: ${msg}`;
}

export async function runCli(argv: string[]): Promise<number> {
  const [first, ...after] = argv;
  if (first === '--version' || first === '-V' || first === 'version') {
    console.log(`lakestream ${version()}`);
    return 0;
  }
  let name = first;
  let rest = after;
  if (first === 'help' && after.length > 0) {
    // "help produce" is "produce --help"
    name = after[0];
    rest = ['--help'];
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? 1 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(unknownCommand(name));
    return 2;
  }
  const command = await entry.load();
  try {
    const ctx = parseCommandArgs(command, rest);
    if (ctx === 'help') {
      console.log(helpText(command));
      return 0;
    }
    return (await command.run(ctx)) ?? 0;
  } catch (e) {
    if (e instanceof LakestreamError) {
      console.error(errorLine(name, e));
      if (process.env.LAKESTREAM_DEBUG && e.cause) console.error(e.cause);
      return e.code === 'BAD_ARGUMENT' ? 2 : 1;
    }
    console.error(`lakestream ${name}: ${describeError(e)}`);
    if (e instanceof Error && e.stack) console.error(e.stack);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await runCli(process.argv.slice(2));
}
