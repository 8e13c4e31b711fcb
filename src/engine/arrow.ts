// Arrow results (what Spark Connect sends) in the engine model (./engine.ts): Delta type names, exact
// microsecond timestamps read from the raw int64s (Arrow JS's get() rounds them to milliseconds).

import {
  type Data,
  type DataType,
  type Decimal,
  type Field,
  type Int,
  type List,
  type Map_,
  makeVector,
  type Struct,
  type Table,
  type Timestamp,
  TimeUnit,
  Type,
} from 'apache-arrow';
import {
  DEFAULT_MAX_ROWS,
  daysToDate,
  decimalText,
  type EngineColumn,
  type EngineResult,
  type EngineValue,
  longValue,
  microsToIso,
  uniqueNames,
} from './engine.ts';

/** An Arrow type as a Delta type name (Spark's own mapping, reversed). */
export function arrowTypeName(t: DataType): string {
  switch (t.typeId) {
    case Type.Null:
      return 'void';
    case Type.Bool:
      return 'boolean';
    case Type.Int: {
      const bits = (t as Int).bitWidth;
      return bits === 8 ? 'byte' : bits === 16 ? 'short' : bits === 32 ? 'integer' : 'long';
    }
    case Type.Float:
      return String(t) === 'Float32' ? 'float' : 'double';
    case Type.Decimal:
      return `decimal(${(t as Decimal).precision},${(t as Decimal).scale})`;
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
      return 'string';
    case Type.Binary:
    case Type.LargeBinary:
    case Type.BinaryView:
    case Type.FixedSizeBinary:
      return 'binary';
    case Type.Date:
      return 'date';
    case Type.Timestamp:
      // Spark sends timestamp with the session zone, timestamp_ntz without one
      return (t as Timestamp).timezone ? 'timestamp' : 'timestamp_ntz';
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
      return `array<${arrowTypeName((t as List).children[0].type)}>`;
    case Type.Map: {
      const entries = (t as Map_).children[0].type as Struct;
      return `map<${arrowTypeName(entries.children[0].type)},${arrowTypeName(entries.children[1].type)}>`;
    }
    case Type.Struct:
      return `struct<${(t as Struct).children.map((f: Field) => `${f.name}:${arrowTypeName(f.type)}`).join(',')}>`;
    default:
      return String(t).toLowerCase();
  }
}

const PER_UNIT: Record<number, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1000n,
  [TimeUnit.MICROSECOND]: 1n,
};

/** One column chunk's values. */
function chunkValues(data: Data, out: EngineValue[], limit: number): void {
  const t = data.type as DataType;
  for (let j = 0; j < data.length && out.length < limit; j++) {
    if (data.nullCount > 0 && !data.getValid(j)) {
      out.push(null);
      continue;
    }
    if (t.typeId === Type.Timestamp) {
      const raw = (data.values as BigInt64Array)[j];
      const unit = (t as Timestamp).unit;
      const micros = unit === TimeUnit.NANOSECOND ? raw / 1000n : raw * PER_UNIT[unit];
      out.push(microsToIso(micros, Boolean((t as Timestamp).timezone)));
      continue;
    }
    out.push(plainValue(t, getValue(data, j)));
  }
}

const vectors = new WeakMap<Data, { get(i: number): unknown }>();

/** Arrow JS's own getter for value j of one chunk (its vector made once per chunk). */
function getValue(data: Data, j: number): unknown {
  let v = vectors.get(data);
  if (!v) {
    v = makeVector(data);
    vectors.set(data, v);
  }
  return v.get(j);
}

/** A value from Arrow JS's getter in the engine model. */
function plainValue(t: DataType, v: unknown): EngineValue {
  if (v === null || v === undefined) return null;
  switch (t.typeId) {
    case Type.Int:
      return typeof v === 'bigint' ? longValue(v) : (v as number);
    case Type.Decimal:
      return decimalText(BigInt(String(v)), (t as Decimal).scale);
    case Type.Date:
      return daysToDate(Math.floor((v as number) / 86_400_000));
    case Type.Binary:
    case Type.LargeBinary:
    case Type.BinaryView:
    case Type.FixedSizeBinary:
      return new Uint8Array(v as Uint8Array);
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const child = (t as List).children[0].type;
      return [...(v as Iterable<unknown>)].map((x) => plainValue(child, x));
    }
    case Type.Map: {
      const entries = (t as Map_).children[0].type as Struct;
      const out: Record<string, EngineValue> = {};
      for (const [k, x] of v as Iterable<[unknown, unknown]>)
        out[String(plainValue(entries.children[0].type, k))] = plainValue(entries.children[1].type, x);
      return out;
    }
    case Type.Struct: {
      const row = v as Record<string, unknown>;
      return Object.fromEntries(
        (t as Struct).children.map((f: Field) => [f.name, plainValue(f.type, row[f.name])]),
      );
    }
    case Type.Timestamp:
      // nested timestamps come through the getter in milliseconds
      return microsToIso(BigInt(Math.round((v as number) * 1000)), Boolean((t as Timestamp).timezone));
    default:
      return v as EngineValue;
  }
}

/** An Arrow table as an engine result: columns typed, at most maxRows rows. */
export function arrowResult(table: Table, maxRows = DEFAULT_MAX_ROWS): EngineResult {
  const fields = table.schema.fields;
  const names = uniqueNames(fields.map((f) => f.name));
  const columns: EngineColumn[] = fields.map((f, i) => ({ name: names[i], type: arrowTypeName(f.type) }));
  const limit = Math.min(maxRows, table.numRows);
  const values = fields.map((_f, i) => {
    const out: EngineValue[] = [];
    for (const data of table.getChildAt(i)?.data ?? []) {
      if (out.length >= limit) break;
      chunkValues(data as Data, out, limit);
    }
    return out;
  });
  const rows = Array.from({ length: limit }, (_, r) =>
    Object.fromEntries(names.map((n, c) => [n, values[c][r] ?? null])),
  );
  return { columns, rows };
}
