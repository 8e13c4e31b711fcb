// What `lakestream sql` lets through, before the lake runs it: read-only statements over the lake's
// views, no file or host access (as the dashboard's Explore refuses), SHOW TABLES answered from the
// lake, and DuckDB's "did you mean" about its own catalog replaced by the lake's view names.

import { LakestreamError } from '../errors.ts';
import { viewNameOf, withDuck } from '../lake/index.ts';
import { closest } from './suggest.ts';

const READ_ONLY = /^(select|with|from|values|table|explain|describe|summarize|show|pivot|unpivot)\b/i;
/** Table functions that read no files: the catalog and generated series. */
const SAFE_TABLE_FUNCTIONS = new Set([
  'range',
  'generate_series',
  'unnest',
  'duckdb_tables',
  'duckdb_views',
  'duckdb_columns',
  'duckdb_schemas',
]);
const REFUSED_FUNCTIONS = new Set(['getenv', 'current_setting', 'read_text', 'read_blob']);

function refuse(what: string): LakestreamError {
  return new LakestreamError(
    'BAD_ARGUMENT',
    `${what} — lakestream sql reads only the lake's views (see "lakestream sql 'SHOW TABLES'")`,
  );
}

/** The statement without leading comments and parentheses. */
function head(sql: string): string {
  return sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()+/, '').trimStart();
}

function walk(node: unknown): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(x);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (o.type === 'TABLE_FUNCTION' && 'alias' in o) {
    const fn = String(
      (o.function as { function_name?: string } | undefined)?.function_name ?? '',
    ).toLowerCase();
    if (!SAFE_TABLE_FUNCTIONS.has(fn)) throw refuse(`table function ${fn}() is not allowed`);
  }
  if (o.type === 'BASE_TABLE' && 'alias' in o && /[./\\]/.test(String(o.table_name ?? '')))
    throw refuse(`reading the file "${String(o.table_name)}" is not allowed`);
  if (o.class === 'FUNCTION' && REFUSED_FUNCTIONS.has(String(o.function_name ?? '').toLowerCase()))
    throw refuse(`function ${String(o.function_name)}() is not allowed`);
  for (const v of Object.values(o)) walk(v);
}

export type Checked = { sql: string } | { tables: { view: string; table: string }[] };

/**
 * Checks a query and returns what to run: the query itself (with every view named in a comment when
 * it reads the catalog, so the lake creates them all), or the table list for SHOW TABLES.
 */
export async function checkQuery(sql: string, tables: string[]): Promise<Checked> {
  const text = head(sql);
  if (/^show\s+(all\s+)?tables\s*;?\s*$/i.test(text))
    return { tables: tables.map((t) => ({ view: viewNameOf(t), table: t })) };
  if (!READ_ONLY.test(text))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `only read-only queries (SELECT, EXPLAIN, DESCRIBE, SHOW) run over the lake, not ${text.split(/\s/)[0].toUpperCase()} — change the lake with "lakestream lake" or the stream`,
    );
  // the SELECT inside EXPLAIN, DESCRIBE, SUMMARIZE; a bare name there is a view
  const inner = text.replace(/^(explain(\s+analyze)?|describe|summarize|show)\s+/i, '');
  if (!/^[A-Za-z_][\w]*\s*;?\s*$/.test(inner)) {
    const tree = await withDuck(async (conn) => {
      const r = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [inner]);
      return JSON.parse(String(r.getRowsJson()[0][0])) as { error?: boolean; statements?: unknown[] };
    });
    // a statement json_serialize_sql cannot serialise is left to the engine's own error
    if (!tree.error) walk(tree.statements);
  }
  const catalog = /information_schema|duckdb_(tables|views|columns)|^show\b|^describe\b/i.test(text);
  return { sql: catalog ? `${sql}\n/* ${tables.map(viewNameOf).join(' ')} */` : sql };
}

/** DuckDB's catalog error, told in the lake's names. */
export function explainError(e: unknown, tables: string[]): unknown {
  const cause = (e as { cause?: unknown }).cause;
  const m = /Table with name ([^\s]+) does not exist/.exec(
    `${(e as Error).message ?? ''} ${(cause as Error | undefined)?.message ?? ''}`,
  );
  if (!m) return e;
  const views = tables.map(viewNameOf);
  const guess = closest(m[1], views);
  return new LakestreamError(
    'NOT_FOUND',
    `no table "${m[1]}" in the lake — ${guess ? `did you mean "${guess}"? ` : ''}${views.length > 0 ? `its views: ${views.join(', ')}` : 'the lake has no tables yet'}`,
    { cause: e },
  );
}
