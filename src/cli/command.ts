// What every CLI command declares: its options once (types, defaults, help text), parsed by node:util.

import { parseArgs } from 'node:util';
import { LakestreamError } from '../errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  /** shown in --help; `VALUE` names the argument */
  help: string;
  value?: string;
}

export type Options = Record<string, OptionSpec>;

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
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `${(e as Error).message}\nRun "lakestream ${c.name} --help" for the options.`,
    );
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
