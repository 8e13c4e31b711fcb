// DuckDB's result types and values in the engine model (src/engine/engine.ts): Delta type names, exact
// timestamps and decimals, dates as text.

import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';
import { daysToDate, decimalText, type EngineValue, longValue, microsToIso } from '../engine.ts';

/** A DuckDB type as a Delta type name. */
export function engineType(t: DuckDBType): string {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'boolean';
    case DuckDBTypeId.TINYINT:
      return 'byte';
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return 'short';
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return 'integer';
    // HUGEINT is what DuckDB's sum() of integers gives; Spark's gives long
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.HUGEINT:
      return 'long';
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return 'decimal(38,0)';
    case DuckDBTypeId.FLOAT:
      return 'float';
    case DuckDBTypeId.DOUBLE:
      return 'double';
    case DuckDBTypeId.DECIMAL:
      return `decimal(${t.width},${t.scale})`;
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
      return 'string';
    case DuckDBTypeId.BLOB:
      return 'binary';
    case DuckDBTypeId.DATE:
      return 'date';
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'timestamp';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return 'timestamp_ntz';
    case DuckDBTypeId.SQLNULL:
      return 'void';
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return `array<${engineType(t.valueType)}>`;
    case DuckDBTypeId.MAP:
      return `map<${engineType(t.keyType)},${engineType(t.valueType)}>`;
    case DuckDBTypeId.STRUCT:
      return `struct<${t.entryNames.map((n, i) => `${n}:${engineType(t.entryTypes[i])}`).join(',')}>`;
    default:
      return String(t).toLowerCase();
  }
}

/** A DuckDB value in the engine model. */
export function engineValue(v: DuckDBValue): EngineValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return longValue(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof DuckDBTimestampTZValue) return microsToIso(v.micros, true);
  if (v instanceof DuckDBTimestampValue) return microsToIso(v.micros, false);
  if (v instanceof DuckDBTimestampMillisecondsValue) return microsToIso(v.millis * 1000n, false);
  if (v instanceof DuckDBTimestampSecondsValue) return microsToIso(v.seconds * 1_000_000n, false);
  if (v instanceof DuckDBTimestampNanosecondsValue) return microsToIso(v.nanos / 1000n, false);
  if (v instanceof DuckDBDateValue) return daysToDate(v.days);
  if (v instanceof DuckDBDecimalValue) return decimalText(v.value, v.scale);
  if (v instanceof DuckDBBlobValue) return new Uint8Array(v.bytes);
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(engineValue);
  if (v instanceof DuckDBMapValue)
    return Object.fromEntries(v.entries.map((e) => [String(engineValue(e.key)), engineValue(e.value)]));
  if (v instanceof DuckDBStructValue)
    return Object.fromEntries(Object.entries(v.entries).map(([k, x]) => [k, engineValue(x)]));
  return String(v);
}
