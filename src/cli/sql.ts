// `lakestream sql "<query>"`: a read-only query over the lake's tables, printed as a table, CSV or JSON.

import { lakeOption, lakeUrl } from '../config/settings.ts';
import { LakestreamError } from '../errors.ts';
import { Lake } from '../lake/index.ts';
import { defineCommand, jsonOption, numberOption } from './command.ts';
import { missingLakeDir } from './read-only.ts';
import { checkQuery, explainError } from './sql-guard.ts';

async function readStdin(): Promise<string> {
  let s = '';
  for await (const chunk of process.stdin) s += chunk;
  return s;
}

/** Aligned text columns with a header rule. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => {
        const s = c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c;
        return s.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function text(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return v.toJSON() ?? 'Invalid Date'; // a LakeTimestamp's keeps microseconds
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

/**
 * A value as JSON wants it: bytes as base64, a map (DuckDB gives a list of {key, value}) as an
 * object, bigints as strings, timestamps with their microseconds. `hasMap` says the column's type
 * holds a MAP, so a list of {key, value} structs elsewhere stays a list.
 */
export function jsonValue(v: unknown, hasMap: boolean): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toJSON();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) {
    const entries =
      hasMap && v.every((e) => e !== null && typeof e === 'object' && Object.keys(e).join() === 'key,value');
    if (entries && v.length > 0)
      return Object.fromEntries(v.map((e) => [String(jsonValue(e.key, hasMap)), jsonValue(e.value, hasMap)]));
    return v.map((e) => jsonValue(e, hasMap));
  }
  if (typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x, hasMap)]));
  return v;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = text(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export default defineCommand({
  name: 'sql',
  summary: 'run a read-only SQL query over the lake tables',
  usage: 'sql "<query>"|- [--max-rows N] [--timeout S] [--format table|csv|json] [--json] [--lake URL]',
  description: `
Every Delta table of the lake is a view named by its path with '/' and '-' replaced by '_'
(meters/gold/daily is meters_gold_daily), at its latest version. DuckDB SQL; only SELECT and
EXPLAIN (and DESCRIBE, SHOW TABLES) run, and no file is read but the lake's. The query may come
on stdin ("-" or no query). Examples:
  lakestream sql "SELECT day, sum(value) FROM meters_gold_daily GROUP BY day ORDER BY day LIMIT 5"
  lakestream sql "SHOW TABLES"`,
  options: {
    ...lakeOption,
    'max-rows': { type: 'string', value: 'N', help: 'stop after N rows', default: '1000' },
    timeout: { type: 'string', value: 'S', help: 'stop the query after S seconds', default: '300' },
    format: { type: 'string', value: 'FMT', help: 'table, csv or json', default: 'table' },
    ...jsonOption,
  },
  async run({ values, positionals }) {
    let sql = positionals.join(' ').trim();
    if (sql === '-' || (sql === '' && !process.stdin.isTTY)) sql = (await readStdin()).trim();
    if (!sql) throw new LakestreamError('BAD_ARGUMENT', 'give a query — e.g. lakestream sql "SELECT 42"');
    if (values.json) values.format = 'json';
    const maxRows = numberOption('max-rows', values['max-rows'], 1000, { integer: true, min: 1 });
    const timeout = numberOption('timeout', values.timeout, 300, { min: 0.001 });
    if (!['table', 'csv', 'json'].includes(values.format))
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--format must be table, csv or json, got "${values.format}"`,
      );
    const missing = missingLakeDir(lakeUrl(values.lake));
    if (missing)
      throw new LakestreamError(
        'NOT_FOUND',
        `no lake at ${missing} — check --lake, or run "lakestream demo" first`,
      );
    const lake = await Lake.open(lakeUrl(values.lake));
    try {
      const started = Date.now();
      const tables = await lake.listTables();
      const checked = await checkQuery(sql, tables);
      const r =
        'tables' in checked
          ? {
              columns: [
                { name: 'view', type: 'VARCHAR' },
                { name: 'table', type: 'VARCHAR' },
              ],
              rows: checked.tables as Record<string, unknown>[],
            }
          : await lake.query(checked.sql, { maxRows, timeoutMs: timeout * 1000 }).catch((e) => {
              throw explainError(e, tables);
            });
      const names = r.columns.map((c) => c.name);
      if (values.format === 'json')
        console.log(
          JSON.stringify(
            r.rows.map((row) =>
              Object.fromEntries(
                r.columns.map((c) => [c.name, jsonValue(row[c.name], c.type.includes('MAP('))]),
              ),
            ),
            null,
            2,
          ),
        );
      else if (values.format === 'csv')
        console.log(
          [
            names.map(csvCell).join(','),
            ...r.rows.map((row) => names.map((n) => csvCell(row[n])).join(',')),
          ].join('\n'),
        );
      else {
        console.log(
          formatTable(
            names,
            r.rows.map((row) => names.map((n) => text(row[n]))),
          ),
        );
        console.error(
          `${r.rows.length} row${r.rows.length === 1 ? '' : 's'}${r.rows.length >= maxRows ? ` (stopped at --max-rows ${maxRows})` : ''} in ${((Date.now() - started) / 1000).toFixed(2)} s`,
        );
      }
      return 0;
    } finally {
      await lake.close();
    }
  },
});
