// The Explore page's first wall: user SQL must parse as ONE SELECT over the lake's views, nothing else.
// (The second wall is the sandbox's locked DuckDB configuration: see ./sandbox.ts.)
//
// DuckDB parses the text (json_serialize_sql), so this check and the engine agree on what it means:
// - json_serialize_sql serializes SELECT statements only: INSERT, COPY, ATTACH, SET, PRAGMA fail here;
// - every FROM item must be a known view or a CTE of the query; table functions (read_csv, read_text,
//   glob, query_table, duckdb_settings…) and replacement scans ('file.parquet') are refused.

import { HttpError } from '../http.ts';

export const MAX_SQL_LENGTH = 20_000;

/** Table references a read-only query over views may use. */
const ALLOWED_REFS = new Set([
  'BASE_TABLE',
  'JOIN',
  'SUBQUERY',
  'EMPTY',
  'EMPTY_FROM',
  'EXPRESSION_LIST',
  'PIVOT',
]);

/** Scalar functions that would reveal the host (the file-reading ones are table functions, refused above). */
const REFUSED_FUNCTIONS = new Set(['getenv', 'current_setting', 'read_text', 'read_blob']);

/** On Spark also the ones that call Java or read configuration. */
export const REFUSED_ON_SPARK: ReadonlySet<string> = new Set([
  ...REFUSED_FUNCTIONS,
  'reflect',
  'java_method',
  'try_reflect',
  'input_file_name',
  'current_catalog',
  'current_database',
  'current_schema',
]);

export interface ParsedTree {
  error?: boolean;
  error_message?: string;
  statements?: unknown[];
}

/** Checks the parse tree (the output of json_serialize_sql); throws 400 naming what is refused. */
export function checkTree(
  tree: ParsedTree,
  views: ReadonlySet<string>,
  refused: ReadonlySet<string> = REFUSED_FUNCTIONS,
): void {
  if (tree.error) {
    const msg = tree.error_message ?? 'cannot parse';
    if (/only select/i.test(msg))
      throw new HttpError(
        400,
        'only a read-only SELECT (or WITH … SELECT) is allowed here: the lake is read-only',
        'sql',
      );
    throw new HttpError(400, `SQL does not parse: ${msg}`, 'sql');
  }
  const n = tree.statements?.length ?? 0;
  if (n !== 1) throw new HttpError(400, `give exactly one SELECT statement (got ${n})`, 'sql');
  walk(tree.statements![0], views, new Set(), refused);
}

function walk(
  node: unknown,
  views: ReadonlySet<string>,
  ctes: Set<string>,
  refused: ReadonlySet<string>,
): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(x, views, ctes, refused);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  // CTE names are in scope for the whole statement (collect before descending).
  const cteMap = (o.cte_map as { map?: { key: string }[] } | undefined)?.map;
  if (cteMap) for (const e of cteMap) ctes.add(String(e.key).toLowerCase());
  const type = typeof o.type === 'string' ? o.type : undefined;
  if (type && isTableRef(o)) checkRef(o, views, ctes);
  if (o.class === 'FUNCTION' && typeof o.function_name === 'string') {
    const fn = o.function_name.toLowerCase();
    if (refused.has(fn)) throw new HttpError(400, `function ${fn}() is not allowed in Explore`, 'sql');
  }
  for (const [k, v] of Object.entries(o)) if (k !== 'type') walk(v, views, ctes, refused);
}

function isTableRef(o: Record<string, unknown>): boolean {
  // Table references carry 'sample' and 'alias' and a type naming the reference kind.
  return 'sample' in o && 'alias' in o && typeof o.type === 'string' && !('select_list' in o);
}

function checkRef(o: Record<string, unknown>, views: ReadonlySet<string>, ctes: Set<string>): void {
  const type = String(o.type);
  if (type === 'TABLE_FUNCTION') {
    const fn = (o.function as { function_name?: string } | undefined)?.function_name ?? 'a table function';
    throw new HttpError(
      400,
      `table function ${fn}() is not allowed in Explore: query the lake's views (see the table list)`,
      'sql',
    );
  }
  if (!ALLOWED_REFS.has(type))
    throw new HttpError(400, `${type.toLowerCase().replaceAll('_', ' ')} is not allowed in Explore`, 'sql');
  if (type !== 'BASE_TABLE') return;
  const name = String(o.table_name ?? '');
  const schema = String(o.schema_name ?? '');
  const catalog = String(o.catalog_name ?? '');
  const lower = name.toLowerCase();
  if (schema !== '' || catalog !== '' || !(views.has(lower) || ctes.has(lower)))
    throw new HttpError(
      400,
      `unknown table "${[catalog, schema, name].filter(Boolean).join('.').slice(0, 120)}": Explore reads only the lake's views (${[...views].join(', ')})`,
      'sql',
    );
}
