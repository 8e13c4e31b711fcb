// Spark's DataType (from AnalyzePlan) as type names in Delta's spelling — long, integer, decimal(10,2),
// timestamp_ntz, array<string>, map<string,long>, struct<a:integer,b:string> — the names lakestream's
// engine interface uses.

import type { DataType } from './gen/spark/connect/types_pb.js';

export interface SparkField {
  name: string;
  type: string;
  nullable: boolean;
}

const SIMPLE: Record<string, string> = {
  null: 'void',
  binary: 'binary',
  boolean: 'boolean',
  byte: 'byte',
  short: 'short',
  integer: 'integer',
  long: 'long',
  float: 'float',
  double: 'double',
  string: 'string',
  date: 'date',
  timestamp: 'timestamp',
  timestampNtz: 'timestamp_ntz',
  calendarInterval: 'interval',
  variant: 'variant',
};

export function sparkTypeName(t: DataType): string {
  const k = t.kind;
  switch (k.case) {
    case 'decimal':
      return `decimal(${k.value.precision ?? 10},${k.value.scale ?? 0})`;
    case 'char':
      return `char(${k.value.length})`;
    case 'varChar':
      return `varchar(${k.value.length})`;
    case 'array':
      return `array<${k.value.elementType ? sparkTypeName(k.value.elementType) : '?'}>`;
    case 'map':
      return `map<${k.value.keyType ? sparkTypeName(k.value.keyType) : '?'},${k.value.valueType ? sparkTypeName(k.value.valueType) : '?'}>`;
    case 'struct':
      return `struct<${k.value.fields.map((f) => `${f.name}:${f.dataType ? sparkTypeName(f.dataType) : '?'}`).join(',')}>`;
    case 'yearMonthInterval':
      return 'interval year to month';
    case 'dayTimeInterval':
      return 'interval day to second';
    case 'udt':
      return k.value.sqlType ? sparkTypeName(k.value.sqlType) : k.value.type;
    case 'unparsed':
      return k.value.dataTypeString;
    case undefined:
      return 'unknown';
    default:
      return SIMPLE[k.case] ?? k.case;
  }
}

/** The fields of a schema (a struct); any other type is one unnamed field. */
export function sparkFields(t: DataType): SparkField[] {
  if (t.kind.case === 'struct') {
    return t.kind.value.fields.map((f) => ({
      name: f.name,
      type: f.dataType ? sparkTypeName(f.dataType) : 'unknown',
      nullable: f.nullable,
    }));
  }
  return [{ name: 'value', type: sparkTypeName(t), nullable: true }];
}
