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
//   src       optional "file:line" of the source row the reading was replayed from
// Unknown fields are ignored (a newer producer may add some). Documented for users in
// docs/reading-schema.md; validateReading below is the executable form of that page.

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
  /** "file:line" of the replayed source row */
  src?: string;
}

export const UNIT_OF_KIND: Record<MeterKind, Unit> = { electricity: 'kWh', water: 'L' };

export function encodeReading(r: Reading): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(r));
}

/**
 * Why a message is rejected: a closed list (the quarantine table's `reason` column).
 * 'unparsed-row' marks a source row the producer could not parse (sent as
 * {"v":1,"src":"file:line","unparsed":"<line>","error":"<why>"}) so it is quarantined, not lost.
 */
export const REJECT_REASONS = [
  'too-large',
  'invalid-utf8',
  'malformed-json',
  'unparsed-row',
  'missing-field',
  'wrong-type',
  'not-finite',
  'negative-interval',
  'out-of-bounds',
  'future-timestamp',
  'pre-1970',
  'bad-timestamp',
  'unknown-unit',
  'unknown-kind',
  'unit-kind-mismatch',
  'bad-meter-id',
  'unsupported-version',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export type Validated =
  | { ok: true; reading: Reading }
  | { ok: false; reason: RejectReason; detail: string; meter_id?: string; src?: string };

export interface ValidateOptions {
  /** the wall clock in ms (default Date.now()) */
  now?: number;
  /** how far beyond `now` a timestamp may lie (default one day: meter clocks drift, zones differ) */
  futureSkewMs?: number;
}

/** Largest message accepted: a reading is ~200 bytes, so anything this big is not one. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** Plausibility bounds: a household cannot draw 100 kWh in one interval (200 kW for 30 min). */
export const MAX_INTERVAL_VALUE: Record<MeterKind, number> = { electricity: 100, water: 100_000 };
export const MAX_REGISTER_VALUE = 1e12;
export const DEFAULT_FUTURE_SKEW_MS = 24 * 3600_000;

const METER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
// ISO-8601 date-time with a mandatory offset; seconds and fraction optional.
const ISO_TS =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):?(\d{2}))$/;
const REQUIRED = ['v', 'meter_id', 'kind', 'ts', 'value', 'unit', 'type', 'seq'] as const;

// Readings of a fleet share their timestamps (every meter reads at :00 and :30), so a small cache
// of parsed timestamps saves the parse for all but the first meter of each interval.
const tsCache = new Map<string, number | undefined>();

/** Milliseconds since the epoch of an ISO-8601 timestamp with offset, or undefined if it is not one. */
export function parseReadingTs(ts: string): number | undefined {
  const hit = tsCache.get(ts);
  if (hit !== undefined || tsCache.has(ts)) return hit;
  const ms = parseTs(ts);
  if (tsCache.size >= 4096) tsCache.clear();
  tsCache.set(ts, ms);
  return ms;
}

function parseTs(ts: string): number | undefined {
  const m = ISO_TS.exec(ts);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const local = Date.UTC(y, mo - 1, d, h, mi, s, m[7] ? Number(`0.${m[7]}`) * 1000 : 0);
  if (new Date(local).getUTCDate() !== d) return undefined; // 2013-02-30
  let offsetMin = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 18 || om > 59) return undefined;
    offsetMin = (m[8][0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Years before 100 are mapped to 19xx by Date.UTC; fix them so that 0001-01-01 is pre-1970, not 1901.
  const fixed = y < 100 ? new Date(local).setUTCFullYear(y) : local;
  return fixed - offsetMin * 60_000;
}

const zoneOk = new Map<string, boolean>();
function isTimeZone(tz: string): boolean {
  let ok = zoneOk.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    if (zoneOk.size < 1000) zoneOk.set(tz, ok);
  }
  return ok;
}

const fail = (reason: RejectReason, detail: string, o?: Record<string, unknown>): Validated => ({
  ok: false,
  reason,
  detail,
  ...(o && typeof o.meter_id === 'string' ? { meter_id: o.meter_id.slice(0, 64) } : {}),
  ...(o && typeof o.src === 'string' ? { src: o.src.slice(0, 1000) } : {}),
});

const typeName = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x);

/** Checks a parsed JSON value against schema v1; returns the reading (known fields only) or why not. */
export function validateReading(value: unknown, options: ValidateOptions = {}): Validated {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('wrong-type', `a reading must be a JSON object, got ${typeName(value)}`);
  const o = value as Record<string, unknown>;
  if (typeof o.unparsed === 'string')
    return fail(
      'unparsed-row',
      `the producer could not parse this source row: ${String(o.error ?? 'no reason given')}`,
      o,
    );
  if (o.v !== undefined && typeof o.v !== 'number')
    return fail('wrong-type', `v must be a number, got ${typeName(o.v)}`, o);
  if (o.v !== undefined && o.v !== READING_SCHEMA_VERSION)
    return fail(
      'unsupported-version',
      `schema version ${String(o.v)} is not supported (this worker reads v1)`,
      o,
    );
  for (const f of REQUIRED)
    if (o[f] === undefined || o[f] === null) return fail('missing-field', `field "${f}" is missing`, o);

  if (typeof o.meter_id !== 'string')
    return fail('wrong-type', `meter_id must be a string, got ${typeName(o.meter_id)}`, o);
  if (!METER_ID.test(o.meter_id))
    return fail(
      'bad-meter-id',
      `meter_id ${JSON.stringify(o.meter_id.slice(0, 80))} is not 1-64 chars of [A-Za-z0-9_.:-]`,
      o,
    );
  if (typeof o.kind !== 'string')
    return fail('wrong-type', `kind must be a string, got ${typeName(o.kind)}`, o);
  if (o.kind !== 'electricity' && o.kind !== 'water')
    return fail('unknown-kind', `kind ${JSON.stringify(o.kind.slice(0, 40))} is not electricity or water`, o);
  if (typeof o.unit !== 'string')
    return fail('wrong-type', `unit must be a string, got ${typeName(o.unit)}`, o);
  if (o.unit !== 'kWh' && o.unit !== 'L')
    return fail('unknown-unit', `unit ${JSON.stringify(o.unit.slice(0, 40))} is not kWh or L`, o);
  if (o.unit !== UNIT_OF_KIND[o.kind])
    return fail(
      'unit-kind-mismatch',
      `a ${o.kind} reading must be in ${UNIT_OF_KIND[o.kind]}, got ${o.unit}`,
      o,
    );
  if (o.type !== 'interval' && o.type !== 'cumulative')
    return fail('wrong-type', `type must be "interval" or "cumulative", got ${JSON.stringify(o.type)}`, o);
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 0)
    return fail('wrong-type', `seq must be a whole number ≥ 0, got ${JSON.stringify(o.seq)}`, o);

  if (typeof o.value === 'string' && /^[+-]?(nan|inf(inity)?)$/i.test(o.value.trim()))
    return fail('not-finite', `value is ${JSON.stringify(o.value)}, not a finite number`, o);
  if (typeof o.value !== 'number')
    return fail('wrong-type', `value must be a number, got ${typeName(o.value)}`, o);
  if (!Number.isFinite(o.value)) return fail('not-finite', `value ${o.value} is not finite`, o);
  if (o.type === 'interval') {
    if (o.value < 0) return fail('negative-interval', `interval value ${o.value} ${o.unit} is negative`, o);
    if (o.value > MAX_INTERVAL_VALUE[o.kind])
      return fail(
        'out-of-bounds',
        `interval value ${o.value} ${o.unit} exceeds ${MAX_INTERVAL_VALUE[o.kind]} ${o.unit}`,
        o,
      );
  } else if (o.value < 0 || o.value > MAX_REGISTER_VALUE)
    return fail('out-of-bounds', `register ${o.value} ${o.unit} is outside 0..${MAX_REGISTER_VALUE}`, o);

  if (typeof o.ts !== 'string') return fail('wrong-type', `ts must be a string, got ${typeName(o.ts)}`, o);
  const ms = parseReadingTs(o.ts);
  if (ms === undefined)
    return fail(
      'bad-timestamp',
      `ts ${JSON.stringify(o.ts.slice(0, 60))} is not ISO-8601 with an offset (e.g. 2013-01-01T00:30:00Z)`,
      o,
    );
  if (ms < 0) return fail('pre-1970', `ts ${o.ts} is before 1970-01-01T00:00:00Z`, o);
  const now = options.now ?? Date.now();
  const skew = options.futureSkewMs ?? DEFAULT_FUTURE_SKEW_MS;
  if (ms > now + skew)
    return fail('future-timestamp', `ts ${o.ts} is more than ${skew / 3600_000} h in the future`, o);

  if (o.tz !== undefined && (typeof o.tz !== 'string' || !isTimeZone(o.tz)))
    return fail('wrong-type', `tz ${JSON.stringify(o.tz)} is not a known IANA time zone`, o);
  if (o.src !== undefined && typeof o.src !== 'string')
    return fail('wrong-type', `src must be a string, got ${typeName(o.src)}`, o);

  const reading: Reading = {
    v: 1,
    meter_id: o.meter_id,
    kind: o.kind,
    ts: o.ts,
    value: o.value,
    unit: o.unit,
    type: o.type,
    seq: o.seq,
  };
  if (o.tz !== undefined) reading.tz = o.tz as string;
  if (o.src !== undefined) reading.src = o.src as string;
  return { ok: true, reading };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes a message's bytes (size, UTF-8, JSON) and validates the reading. */
export function decodeReading(bytes: Uint8Array, options: ValidateOptions = {}): Validated {
  if (bytes.byteLength > MAX_MESSAGE_BYTES)
    return fail(
      'too-large',
      `message of ${bytes.byteLength} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`,
    );
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('invalid-utf8', `message of ${bytes.byteLength} bytes is not valid UTF-8`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail('malformed-json', `not JSON: ${(e as Error).message}`);
  }
  return validateReading(parsed, options);
}
