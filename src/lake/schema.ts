// Table schemas: lakestream's Field list <-> Delta's schemaString (Spark StructType JSON) <-> DuckDB types.

import { LakestreamError } from '../errors.ts';

/** Delta primitive types lakestream writes; complex types appear only when reading other writers' tables. */
export type DeltaType =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'double'
  | 'float'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'binary'
  | `decimal(${number},${number})`
  | 'timestamp_ntz'
  | `array<${string}>`
  | `map<${string}>`
  | `struct<${string}>`;

export interface Field {
  name: string;
  type: DeltaType;
  /** default true */
  nullable?: boolean;
  /** the Delta JSON type when it is not a primitive (array, map, struct), as found in the log */
  typeJson?: unknown;
  /** column metadata from the log (e.g. delta.invariants), kept for writer checks */
  metadata?: Record<string, unknown>;
}

export interface TableSpec {
  schema: Field[];
  partitionColumns?: string[];
  description?: string;
  configuration?: Record<string, string>;
}

const PRIMITIVES = new Set([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'double',
  'float',
  'boolean',
  'date',
  'timestamp',
  'binary',
  'timestamp_ntz',
]);
const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

/** A DeltaType accepted by the writer, or an error naming the field. */
export function checkFieldType(f: Field, table: string): void {
  if (PRIMITIVES.has(f.type)) return;
  const m = DECIMAL.exec(f.type);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 38 && Number(m[2]) <= Number(m[1])) return;
  throw new LakestreamError(
    'BAD_ARGUMENT',
    `table ${table}: column "${f.name}" has an unsupported type "${f.type}"`,
  );
}

/** 'decimal(10, 4)' -> 'decimal(10,4)'; other types unchanged. */
export function normalizeType(t: DeltaType): DeltaType {
  const m = DECIMAL.exec(t);
  return m ? `decimal(${Number(m[1])},${Number(m[2])})` : t;
}

/** Spark refuses these characters in column names unless column mapping is on. */
const BAD_NAME = /[ ,;{}()\n\t=]/;

export function validateSpec(spec: TableSpec, table: string): void {
  if (!Array.isArray(spec.schema) || spec.schema.length === 0)
    throw new LakestreamError('BAD_ARGUMENT', `table ${table}: the schema has no columns`);
  const seen = new Set<string>();
  for (const f of spec.schema) {
    if (!f.name || BAD_NAME.test(f.name))
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `table ${table}: invalid column name "${f.name}" (no spaces or ,;{}()=)`,
      );
    const lower = f.name.toLowerCase();
    if (seen.has(lower))
      throw new LakestreamError('BAD_ARGUMENT', `table ${table}: column "${f.name}" appears twice`);
    seen.add(lower);
    checkFieldType(f, table);
  }
  for (const p of spec.partitionColumns ?? []) {
    const f = spec.schema.find((x) => x.name === p);
    if (!f)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `table ${table}: partition column "${p}" is not in the schema`,
      );
    if (f.type === 'binary' || f.type === 'float' || f.type === 'double')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `table ${table}: cannot partition by ${f.type} column "${p}"`,
      );
  }
  if (spec.partitionColumns && spec.partitionColumns.length === spec.schema.length)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `table ${table}: at least one column must not be a partition column`,
    );
}

/** The Delta `schemaString` for a list of fields. */
export function toSchemaString(fields: Field[]): string {
  return JSON.stringify({
    type: 'struct',
    fields: fields.map((f) => ({
      name: f.name,
      type: f.typeJson ?? f.type,
      nullable: f.nullable ?? true,
      metadata: f.metadata ?? {},
    })),
  });
}

/** Parses a Delta `schemaString`; `where` names the table and file for errors. */
export function parseSchemaString(s: string, where: string): Field[] {
  if (typeof s !== 'string')
    throw new LakestreamError('CORRUPT_TABLE', `${where}: metaData has no schemaString`);
  let json: unknown;
  try {
    json = JSON.parse(s);
  } catch (e) {
    throw new LakestreamError('CORRUPT_TABLE', `${where}: metaData.schemaString is not valid JSON`, {
      cause: e,
    });
  }
  const st = json as { type?: string; fields?: unknown[] };
  if (st?.type !== 'struct' || !Array.isArray(st.fields))
    throw new LakestreamError('CORRUPT_TABLE', `${where}: metaData.schemaString is not a struct type`);
  return st.fields.map((raw) => {
    const f = raw as { name: string; type: unknown; nullable?: boolean; metadata?: Record<string, unknown> };
    const type = typeName(f.type, where);
    const field: Field = { name: f.name, type, nullable: f.nullable ?? true };
    if (typeof f.type !== 'string') field.typeJson = f.type;
    if (f.metadata && Object.keys(f.metadata).length > 0) field.metadata = f.metadata;
    return field;
  });
}

/** A complex Delta type as the schema's JSON spells it (array, map or struct). */
export interface ComplexType {
  type?: string;
  elementType?: unknown;
  keyType?: unknown;
  valueType?: unknown;
  fields?: { name: string; type: unknown; metadata?: Record<string, unknown> }[];
}

function typeName(t: unknown, where: string): DeltaType {
  if (typeof t === 'string') {
    const m = DECIMAL.exec(t);
    if (m) return `decimal(${Number(m[1])},${Number(m[2])})`;
    if (PRIMITIVES.has(t)) return t as DeltaType;
    if (t === 'variant')
      throw new LakestreamError(
        'UNSUPPORTED',
        `${where}: column type "variant" (feature variantType) is not supported`,
      );
    return t as DeltaType; // unknown primitives (e.g. void) are refused when mapped to DuckDB
  }
  const o = t as ComplexType;
  if (o?.type === 'array') return `array<${typeName(o.elementType, where)}>`;
  if (o?.type === 'map') return `map<${typeName(o.keyType, where)},${typeName(o.valueType, where)}>`;
  if (o?.type === 'struct' && Array.isArray(o.fields))
    return `struct<${o.fields.map((f) => `${f.name}:${typeName(f.type, where)}`).join(',')}>`;
  throw new LakestreamError('CORRUPT_TABLE', `${where}: unknown column type ${JSON.stringify(t)}`);
}

const DUCK: Record<string, string> = {
  string: 'VARCHAR',
  long: 'BIGINT',
  integer: 'INTEGER',
  short: 'SMALLINT',
  byte: 'TINYINT',
  double: 'DOUBLE',
  float: 'FLOAT',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMPTZ', // Delta timestamp = Parquet TIMESTAMP(isAdjustedToUTC=true, MICROS)
  timestamp_ntz: 'TIMESTAMP',
  binary: 'BLOB',
};

/** The DuckDB SQL type of a Delta type (Field.typeJson for complex types). */
export function duckType(t: unknown, where = 'schema'): string {
  if (typeof t === 'string') {
    if (DUCK[t]) return DUCK[t];
    const m = DECIMAL.exec(t);
    if (m) return `DECIMAL(${m[1]},${m[2]})`;
    throw new LakestreamError('UNSUPPORTED', `${where}: column type "${t}" is not supported`);
  }
  const o = t as ComplexType;
  if (o?.type === 'array') return `${duckType(o.elementType, where)}[]`;
  if (o?.type === 'map') return `MAP(${duckType(o.keyType, where)}, ${duckType(o.valueType, where)})`;
  if (o?.type === 'struct' && Array.isArray(o.fields))
    return `STRUCT(${o.fields.map((f) => `${quoteIdent(f.name)} ${duckType(f.type, where)}`).join(', ')})`;
  throw new LakestreamError('UNSUPPORTED', `${where}: column type ${JSON.stringify(t)} is not supported`);
}

export function fieldDuckType(f: Field, where?: string): string {
  return duckType(f.typeJson ?? f.type, where);
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Two schemas are the same when names, types, nullability and order agree. */
export function sameSchema(a: Field[], b: Field[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (f, i) =>
      f.name === b[i].name &&
      normalizeType(f.type) === normalizeType(b[i].type) &&
      (f.nullable ?? true) === (b[i].nullable ?? true),
  );
}

export function describeSchema(fields: Field[]): string {
  return fields.map((f) => `${f.name} ${f.type}${f.nullable === false ? ' not null' : ''}`).join(', ');
}
