// The `lakestream` command: finds the subcommand, parses its flags, runs it, turns errors into messages.

import { describeError, LakestreamError } from '../errors.ts';
import { type Command, helpText, parseCommandArgs } from './command.ts';

/** Every command, loaded only when run (so `lakestream --help` starts fast). */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
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
    'Run "lakestream <command> --help" for a command\'s options.',
    'Start here: "npx lakestream demo" runs everything on this machine with embedded engines.',
  ].join('\n');
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? 1 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`lakestream: unknown command "${name}"\n\n${mainHelp()}`);
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
      console.error(`lakestream ${name}: ${e.message}`);
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
