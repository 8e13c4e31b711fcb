// `lakestream sql "<query>"`: a read-only query over the lake's tables, printed as a table, CSV or JSON.

import { engineOption, engineSetting, lakeOption, lakeUrl } from '../config/settings.ts';
import { openEngine } from '../engine/index.ts';
import { LakestreamError } from '../errors.ts';
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
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'object') return JSON.stringify(v, jsonReplacer);
  return String(v);
}

/** JSON for engine values: big longs as text, bytes as base64 (maps and structs are objects already). */
function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
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
  usage:
    'sql "<query>"|- [--engine duckdb|spark[://HOST:PORT]] [--max-rows N] [--timeout S] [--format table|csv|json] [--json] [--lake URL]',
  description: `
Every Delta table of the lake is a view named by its path with '/' and '-' replaced by '_'
(meters/gold/daily is meters_gold_daily), at its latest version. Only SELECT and EXPLAIN (and
DESCRIBE, SHOW TABLES) run, and no file is read but the lake's. The SQL is the engine's: DuckDB's by
default, Spark SQL with --engine spark (there, "x" quotes a column name as in DuckDB). Ctrl-C stops
the query (Spark gets an Interrupt) and exits 130. Timestamps print as UTC instants with
microseconds; in JSON, bytes are base64 and maps are objects. The query may come on stdin ("-" or
no query). Examples:
  lakestream sql "SELECT day, sum(value) FROM meters_gold_daily GROUP BY day ORDER BY day LIMIT 5"
  lakestream sql "SHOW TABLES"`,
  options: {
    ...engineOption,
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
    const stop = new AbortController();
    const onSigint = () => stop.abort(new LakestreamError('TIMEOUT', 'stopped by Ctrl-C'));
    process.once('SIGINT', onSigint);
    const engine = await openEngine(engineSetting(values.engine), lakeUrl(values.lake));
    try {
      const started = Date.now();
      const tables = (await engine.tables()).map((t) => t.path);
      const checked = await checkQuery(sql, tables);
      let r: Awaited<ReturnType<typeof engine.query>>;
      if ('tables' in checked)
        r = {
          columns: [
            { name: 'view', type: 'string' },
            { name: 'table', type: 'string' },
          ],
          rows: checked.tables,
        };
      else
        try {
          r = await engine.query(checked.sql, { maxRows, timeoutMs: timeout * 1000, signal: stop.signal });
        } catch (e) {
          if (!stop.signal.aborted) throw explainError(e, tables);
          console.error('lakestream sql: stopped (Ctrl-C)');
          return 130;
        }
      const names = r.columns.map((c) => c.name);
      if (values.format === 'json') console.log(JSON.stringify(r.rows, jsonReplacer, 2));
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
      process.off('SIGINT', onSigint);
      // a server that stopped answering must not keep the command alive
      await Promise.race([engine.close(), new Promise((r) => setTimeout(r, 3000).unref())]);
    }
  },
});
