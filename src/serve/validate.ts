// Validation of API parameters: every check names the parameter it refuses (→ 400).

import { badParam } from './http.ts';

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH_RE = /^\d{4}-\d{2}$/;
/** Meter ids as the reading schema allows them (src/domain/meters/reading.ts). */
const METER_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

export type Params = URLSearchParams;

/** Refuses parameters the endpoint does not know, so a typo is not silently ignored. */
export function onlyParams(q: Params, allowed: readonly string[]): void {
  for (const k of q.keys()) {
    if (!allowed.includes(k)) throw badParam(k, `unknown parameter; expected one of ${allowed.join(', ')}`);
    if (q.getAll(k).length > 1) throw badParam(k, 'given more than once');
  }
}

export function oneOf<T extends string>(q: Params, name: string, values: readonly T[], fallback: T): T {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  if (!(values as readonly string[]).includes(v))
    throw badParam(name, `must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
}

/** A calendar day 'YYYY-MM-DD' that exists (2013-02-30 does not). */
export function day(q: Params, name: string): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!DAY_RE.test(v) || !isRealDay(v)) throw badParam(name, `must be a date YYYY-MM-DD, got "${v}"`);
  return v;
}

export function month(q: Params, name: string): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const m = Number(v.slice(5, 7));
  if (!MONTH_RE.test(v) || m < 1 || m > 12) throw badParam(name, `must be a month YYYY-MM, got "${v}"`);
  return v;
}

export function meterId(q: Params, name: string): string | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!METER_RE.test(v))
    throw badParam(name, `must be a meter id (1-64 of A-Z a-z 0-9 _ . : -), got "${v.slice(0, 80)}"`);
  return v;
}

export function int(q: Params, name: string, fallback: number, min: number, max: number): number {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw badParam(name, `must be a whole number from ${min} to ${max}, got "${v.slice(0, 40)}"`);
  return n;
}

/** A free-text search term (letters, digits and a few separators), at most 64 characters. */
export function search(q: Params, name: string): string {
  const v = q.get(name) ?? '';
  if (v.length > 64 || !/^[A-Za-z0-9_.:\- ]*$/.test(v))
    throw badParam(name, 'must be up to 64 letters, digits or _.:- ');
  return v;
}

function isRealDay(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** Whole days from `from` to `to` inclusive. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

export function addDays(dayStr: string, n: number): string {
  return new Date(Date.parse(`${dayStr}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** SQL string literal of a value already validated by this module (single quotes doubled anyway). */
export function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
