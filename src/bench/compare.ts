// `bench compare A B`: two bench results (a results directory or its result.json) side by side —
// headline figures with the change from A to B, then each run's per-fault or per-step rows.

import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LakestreamError } from '../errors.ts';
import type { BenchResult } from './result.ts';

export async function loadResult(path: string): Promise<BenchResult> {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'result.json') : path;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LakestreamError(
      'NOT_FOUND',
      `bench compare: no result at ${file} (give a bench/results/<run> directory or its result.json)`,
      {
        cause: e,
      },
    );
  }
  try {
    const r = JSON.parse(text) as BenchResult;
    if (typeof r.scenario !== 'string' || typeof r.summary !== 'object')
      throw new Error('scenario or summary missing');
    return r;
  } catch (e) {
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `bench compare: ${file} is not a bench result: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

export interface Comparison {
  a: { path: string; scenario: string; started_at: string; short: boolean; ok: boolean; verdict: string };
  b: { path: string; scenario: string; started_at: string; short: boolean; ok: boolean; verdict: string };
  figures: { figure: string; a: unknown; b: unknown; change: string }[];
}

function change(a: unknown, b: unknown): string {
  if (typeof a !== 'number' || typeof b !== 'number') return a === b ? '=' : '≠';
  if (a === b) return '=';
  if (a === 0) return `${b > 0 ? '+' : ''}${b}`;
  const pct = (100 * (b - a)) / Math.abs(a);
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)} %`;
}

export function compareResults(pa: string, a: BenchResult, pb: string, b: BenchResult): Comparison {
  const keys = [...new Set([...Object.keys(a.summary), ...Object.keys(b.summary)])];
  const head = (p: string, r: BenchResult) => ({
    path: p,
    scenario: r.scenario,
    started_at: r.started_at,
    short: r.short,
    ok: r.ok,
    verdict: r.verdict,
  });
  return {
    a: head(pa, a),
    b: head(pb, b),
    figures: [
      { figure: 'seconds', a: a.seconds, b: b.seconds, change: change(a.seconds, b.seconds) },
      ...keys.map((k) => ({
        figure: k,
        a: a.summary[k] ?? null,
        b: b.summary[k] ?? null,
        change: change(a.summary[k], b.summary[k]),
      })),
    ],
  };
}

function textTable(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function rowsText(r: BenchResult): string {
  const t = r.table ?? [];
  if (t.length === 0) return '  (no rows)';
  const cols = [...new Set(t.flatMap((x) => Object.keys(x)))];
  return textTable([cols, ...t.map((x) => cols.map((c) => String(x[c] ?? '')))])
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export async function runCompare(opts: { json?: boolean; args?: string[] }): Promise<Comparison> {
  const [pa, pb] = opts.args ?? [];
  if (!pa || !pb)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      'bench compare: give two results: bench compare A B (bench/results/<run> directories or result.json files)',
    );
  const [a, b] = await Promise.all([loadResult(pa), loadResult(pb)]);
  const c = compareResults(pa, a, pb, b);
  if (opts.json) {
    console.log(JSON.stringify(c));
    return c;
  }
  const lines = [
    `A: ${pa} — ${a.scenario}${a.short ? ' (short)' : ''}, ${a.started_at}: ${a.ok ? 'OK' : 'FAILED'} — ${a.verdict}`,
    `B: ${pb} — ${b.scenario}${b.short ? ' (short)' : ''}, ${b.started_at}: ${b.ok ? 'OK' : 'FAILED'} — ${b.verdict}`,
    a.scenario !== b.scenario ? `(different scenarios: ${a.scenario} vs ${b.scenario})` : '',
    '',
    textTable([
      ['figure', 'A', 'B', 'change'],
      ...c.figures.map((f) => [f.figure, String(f.a), String(f.b), f.change]),
    ]),
    '',
    'A rows:',
    rowsText(a),
    '',
    'B rows:',
    rowsText(b),
  ];
  console.log(lines.filter((l, i) => l !== '' || i > 2).join('\n'));
  return c;
}
