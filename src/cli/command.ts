// What every CLI command declares: its options once (types, defaults, help text), parsed by node:util.
// The option type itself is config's (config/options.ts), which declares the shared settings with it.

import { parseArgs } from 'node:util';
import type { Options } from '../config/options.ts';
import { LakestreamError } from '../errors.ts';
import { didYouMean } from './suggest.ts';

export type { OptionSpec, Options } from '../config/options.ts';

type Parsed<O extends Options> = {
  [K in keyof O]: O[K]['type'] extends 'boolean'
    ? boolean
    : O[K]['multiple'] extends true
      ? string[]
      : O[K]['default'] extends string
        ? string
        : string | undefined;
};

export interface CommandContext<O extends Options> {
  values: Parsed<O>;
  positionals: string[];
}

export interface Command<O extends Options = Options> {
  name: string;
  summary: string;
  /** usage line(s) after `lakestream` */
  usage: string;
  /** longer description shown by --help */
  description?: string;
  options: O;
  /** returns the exit code (0 when undefined) */
  run(ctx: CommandContext<O>): Promise<number | undefined>;
}

export function defineCommand<O extends Options>(c: Command<O>): Command<O> {
  return c;
}

export function helpText(c: Command): string {
  const lines = [`lakestream ${c.name} — ${c.summary}`, '', `Usage: lakestream ${c.usage}`];
  if (c.description) lines.push('', c.description.trim());
  const opts = Object.entries(c.options);
  if (opts.length > 0) {
    lines.push('', 'Options:');
    const rows = opts.map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
      const def = o.default !== undefined && o.type === 'string' ? ` (default: ${o.default})` : '';
      return [flag, o.help + def];
    });
    rows.push(['-h, --help', 'show this help']);
    const width = Math.max(...rows.map((r) => r[0].length)) + 2;
    for (const [f, h] of rows) lines.push(`  ${f.padEnd(width)}${h}`);
  }
  return lines.join('\n');
}

/** The flags every command that takes them shares, with one meaning (docs/cli.md). */
export const jsonOption = {
  json: { type: 'boolean', help: 'print JSON on stdout (raw numbers, ISO 8601 times)' },
} as const satisfies Options;

export const quietOption = {
  quiet: { type: 'boolean', short: 'q', help: 'no progress lines on stderr' },
} as const satisfies Options;

/** --data: the old name of --file, for the commands that read a daily file. */
export const dataAliasOption = {
  data: { type: 'string', value: 'FILE', help: 'the same as --file (kept for old scripts)' },
} as const satisfies Options;

/** The daily file named by --file or by its old name --data (not both). */
export function fileOrData(values: { file?: string; data?: string }): string | undefined {
  if (values.file !== undefined && values.data !== undefined)
    throw new LakestreamError('BAD_ARGUMENT', 'give --file or --data, not both — they are the same');
  return values.file ?? values.data;
}

/** What a shared flag means, for the message when a command does not take it. */
const SHARED_FLAGS: Record<string, string> = {
  lake: 'the lake',
  transport: 'the transport',
  engine: 'the query engine',
  json: 'JSON output',
  quiet: 'quiet output',
  file: 'one input file',
  data: 'a data folder',
};

function flagList(names: string[]): string {
  return names.map((n) => `--${n}`).join(', ');
}

/**
 * Checks argv against the command's options before node:util sees it, so a typo gets "did you mean"
 * and a value that looks like a flag (`--rate -5`) is still a value.
 */
function normaliseArgs(c: Command, argv: string[]): string[] {
  const out: string[] = [];
  const names = ['help', ...Object.keys(c.options)];
  const shorts = new Map(Object.entries(c.options).flatMap(([n, o]) => (o.short ? [[o.short, n]] : [])));
  shorts.set('h', 'help');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    let name: string | undefined;
    if (a.startsWith('--')) name = a.slice(2).split('=')[0];
    else if (/^-[A-Za-z]/.test(a)) {
      const s = a.slice(1, 2);
      name = shorts.get(s);
      if (name === undefined)
        throw usage(
          c,
          `unknown option -${s}`,
          `the short options are ${[...shorts].map(([k, n]) => `-${k} (--${n})`).join(', ')}`,
        );
    }
    if (name === undefined) {
      out.push(a);
      continue;
    }
    const spec = name === 'help' ? undefined : c.options[name];
    if (name !== 'help' && spec === undefined) {
      const guess = didYouMean(name, names, (n) => `--${n}`);
      if (guess) throw usage(c, `unknown option --${name}`, guess);
      if (SHARED_FLAGS[name])
        throw usage(
          c,
          `"${c.name}" takes no --${name} (${SHARED_FLAGS[name]}): it does not use it`,
          `its options are ${flagList(Object.keys(c.options))}`,
        );
      throw usage(c, `unknown option --${name}`, `its options are ${flagList(Object.keys(c.options))}`);
    }
    // a string option followed by a negative number: hand it over as --name=-5
    if (spec?.type === 'string' && !a.includes('=') && /^-\d/.test(argv[i + 1] ?? '')) {
      out.push(`--${name}=${argv[i + 1]}`);
      i++;
      continue;
    }
    if (
      spec?.type === 'string' &&
      !a.includes('=') &&
      (argv[i + 1] === undefined || argv[i + 1].startsWith('--'))
    )
      throw usage(c, `--${name} needs a value (${spec.value ?? 'VALUE'})`, spec.help);
    if (spec?.type === 'boolean' && a.includes('='))
      throw usage(c, `--${name} takes no value (got "${a}")`, `give just --${name}`);
    out.push(a);
  }
  return out;
}

/** A usage error in the one format: "<what> — <what to do>". */
export function usage(c: Pick<Command, 'name'>, what: string, todo?: string): LakestreamError {
  return new LakestreamError(
    'BAD_ARGUMENT',
    `${what} — ${todo ?? `run "lakestream ${c.name} --help" for the options`}`,
  );
}

export function parseCommandArgs<O extends Options>(
  c: Command<O>,
  argv: string[],
): CommandContext<O> | 'help' {
  const options: Record<
    string,
    { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean | string[] }
  > = { help: { type: 'boolean', short: 'h' } };
  // parseArgs rejects keys present with the value undefined, so only defined ones are copied
  for (const [name, o] of Object.entries(c.options))
    options[name] = Object.fromEntries(
      Object.entries({ type: o.type, short: o.short, multiple: o.multiple, default: o.default }).filter(
        ([, v]) => v !== undefined,
      ),
    ) as (typeof options)[string];
  const args = normaliseArgs(c as unknown as Command, argv);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // what normaliseArgs did not catch; node:util's text is one line of it
    throw usage(c, (e as Error).message.split('\n')[0].replace(/\.$/, ''));
  }
  if (parsed.values.help) return 'help';
  return { values: parsed.values as Parsed<O>, positionals: parsed.positionals };
}

/** Parses a number flag, naming the flag when it is not one. */
export function numberOption(
  name: string,
  value: string | undefined,
  fallback: number,
  opts: { min?: number; integer?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (
    !Number.isFinite(n) ||
    (opts.integer && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min)
  )
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--${name} must be ${opts.integer ? 'a whole number' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}, got "${value}"`,
    );
  return n;
}
