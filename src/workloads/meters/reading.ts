// The reading message: what producers send and stream workers accept, schema version 1.
//
// Wire format: one UTF-8 JSON object per message, keyed by meter_id. Example:
//   {"v":1,"meter_id":"MAC000002","kind":"electricity","ts":"2013-01-01T00:30:00+00:00",
//    "value":0.219,"unit":"kWh","type":"interval","seq":1}
// Fields:
//   v         schema version, the number 1
//   meter_id  1-64 chars of [A-Za-z0-9_.:-]
//   kind      "electricity" | "water"
//   ts        ISO-8601 with an explicit offset (Z or ±hh:mm): the START of an interval reading's
//             period (as the London and UCI files date their rows), or the instant of a cumulative
//             register read (the consumption since the previous read counts on that instant's day)
//   value     finite number; interval: the quantity in the period (≥ 0); cumulative: the register
//   unit      "kWh" (electricity) | "L" (water)
//   type      "interval" | "cumulative"
//   seq       integer ≥ 0, the producer's per-meter sequence number
//   tz        optional IANA zone of the meter (its calendar days); default: the offset of ts
// Documented for users in docs/reading-schema.md.

export const READING_SCHEMA_VERSION = 1;

export type MeterKind = 'electricity' | 'water';
export type ReadingType = 'interval' | 'cumulative';
export type Unit = 'kWh' | 'L';

export interface Reading {
  v: 1;
  meter_id: string;
  kind: MeterKind;
  ts: string;
  value: number;
  unit: Unit;
  type: ReadingType;
  seq: number;
  tz?: string;
}

export const UNIT_OF_KIND: Record<MeterKind, Unit> = { electricity: 'kWh', water: 'L' };

export function encodeReading(r: Reading): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(r));
}
