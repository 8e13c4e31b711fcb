// Column mapping (PROTOCOL "Column Mapping"): in modes `name` and `id` the data files and partition
// values use each field's physical name (`delta.columnMapping.physicalName`, nested fields too), the
// schema the logical one. Reading maps physical to logical; in `id` mode top-level columns are found
// by their Parquet field id (`delta.columnMapping.id`), nested fields by physical name.

import type { MetadataAction } from './actions.ts';
import type { ComplexType, Field } from './schema.ts';
import { duckType, quoteIdent, quoteString } from './schema.ts';

export type ColumnMappingMode = 'none' | 'name' | 'id';

const PHYSICAL = 'delta.columnMapping.physicalName';

export function columnMappingMode(m: Pick<MetadataAction, 'configuration'> | undefined): ColumnMappingMode {
  const mode = m?.configuration?.['delta.columnMapping.mode'] ?? 'none';
  return mode === 'name' || mode === 'id' ? mode : 'none';
}

/** The name a column has in the data files and in `partitionValues`. */
export function physicalName(f: Pick<Field, 'name' | 'metadata'>, mode: ColumnMappingMode): string {
  if (mode === 'none') return f.name;
  const p = f.metadata?.[PHYSICAL];
  return typeof p === 'string' && p !== '' ? p : f.name;
}

function hasStruct(t: unknown): boolean {
  if (typeof t !== 'object' || t === null) return false;
  const o = t as ComplexType;
  if (o.type === 'struct') return true;
  if (o.type === 'array') return hasStruct(o.elementType);
  if (o.type === 'map') return hasStruct(o.keyType) || hasStruct(o.valueType);
  return false;
}

/**
 * A DuckDB expression giving the value of `expr` (read with physical field names) with the logical
 * names of type `t`: structs rebuilt field by field, through arrays and maps. Leaves the expression
 * as it is when no struct is inside.
 */
export function logicalValue(expr: string, t: unknown, mode: ColumnMappingMode, depth = 0): string {
  if (mode === 'none' || !hasStruct(t)) return expr;
  const o = t as ComplexType;
  const v = `__v${depth}`;
  if (o.type === 'struct') {
    const parts = (o.fields ?? []).map(
      (f) =>
        `${quoteString(f.name)}: ${logicalValue(`struct_extract(${expr}, ${quoteString(physicalName(f, mode))})`, f.type, mode, depth + 1)}`,
    );
    return `CASE WHEN ${expr} IS NULL THEN NULL ELSE {${parts.join(', ')}} END`;
  }
  if (o.type === 'array')
    return `list_transform(${expr}, ${v} -> ${logicalValue(v, o.elementType, mode, depth + 1)})`;
  // map
  const key = logicalValue(`${v}.key`, o.keyType, mode, depth + 1);
  const value = logicalValue(`${v}.value`, o.valueType, mode, depth + 1);
  return `CASE WHEN ${expr} IS NULL THEN NULL ELSE map_from_entries(list_transform(map_entries(${expr}), ${v} -> {'key': ${key}, 'value': ${value}})) END`;
}

/** The DuckDB type of `t` as stored: struct fields under their physical names. */
export function physicalDuckType(t: unknown, mode: ColumnMappingMode, where: string): string {
  if (!hasStruct(t)) return duckType(t, where);
  const o = t as ComplexType;
  if (o.type === 'struct')
    return `STRUCT(${(o.fields ?? []).map((f) => `${quoteIdent(physicalName(f, mode))} ${physicalDuckType(f.type, mode, where)}`).join(', ')})`;
  if (o.type === 'array') return `${physicalDuckType(o.elementType, mode, where)}[]`;
  return `MAP(${physicalDuckType(o.keyType, mode, where)}, ${physicalDuckType(o.valueType, mode, where)})`;
}

/**
 * In `id` mode, read_parquet's `schema` argument that finds each column by its field id and names it
 * by its physical name (a file without that id gives NULLs); undefined when some column has no id.
 */
export function fieldIdSchema(fields: Field[], mode: ColumnMappingMode, where: string): string | undefined {
  if (mode !== 'id' || fields.length === 0) return undefined;
  const entries: string[] = [];
  for (const f of fields) {
    const id = Number(f.metadata?.['delta.columnMapping.id']);
    if (!Number.isInteger(id)) return undefined;
    const type = physicalDuckType(f.typeJson ?? f.type, mode, where);
    entries.push(
      `${id}: {name: ${quoteString(physicalName(f, mode))}, type: ${quoteString(type)}, default_value: NULL}`,
    );
  }
  return `MAP {${entries.join(', ')}}`;
}
