// Household metadata (tariff, ACORN group) and holiday calendars for the silver table and the forecast,
// and the deterministic exploration sample. Loaded once at start; absent files mean no enrichment.
// A meter's calendar: the UK bank holidays for the London trial's households (households.csv), a
// calendar the user gave for the meter's zone, or none — then its days' is_holiday is unknown (null).

import { existsSync, readFileSync } from 'node:fs';
import { LakestreamError } from '../../errors.ts';
import { parseHolidayCalendar } from '../../models/consumption/holidays.ts';

export interface Household {
  tariff?: string;
  acorn?: string;
  acornGroup?: string;
}

export interface Enrichment {
  household(meterId: string): Household | undefined;
  /** the meter's holidays ('YYYY-MM-DD'), or undefined when its calendar is unknown */
  calendarOf(meterId: string, tz?: string): ReadonlySet<string> | undefined;
  inSample(meterId: string): boolean;
}

/** FNV-1a: a stable 32-bit hash, so a meter is in or out of the sample on every run and machine. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitCsvLine(line: string): string[] {
  return line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

/** households.csv: LCLid,stdorToU,Acorn,Acorn_grouped,file */
export function loadHouseholds(path: string): Map<string, Household> {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  const col = (n: string) => header.indexOf(n);
  const [id, tariff, acorn, group] = [col('LCLid'), col('stdorToU'), col('Acorn'), col('Acorn_grouped')];
  if (id < 0 || tariff < 0)
    throw new LakestreamError(
      'BAD_INPUT',
      `${path}:1: expected columns LCLid,stdorToU,Acorn,Acorn_grouped, got ${header.join(',')}`,
    );
  const out = new Map<string, Household>();
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const f = splitCsvLine(line);
    out.set(f[id], {
      tariff: f[tariff] || undefined,
      acorn: f[acorn] || undefined,
      acornGroup: f[group] || undefined,
    });
  }
  return out;
}

/** A holiday calendar file (date,name rows; see holidays.ts for how swapped dates are read). */
export function loadHolidays(path: string): Set<string> {
  if (!existsSync(path)) throw new LakestreamError('NOT_FOUND', `holiday calendar ${path}: no such file`);
  return parseHolidayCalendar(readFileSync(path, 'utf8'), path);
}

export interface EnrichmentOptions {
  householdsFile?: string;
  /** the UK bank holidays, for the households of householdsFile */
  holidaysFile?: string;
  /** zone (IANA name, as readings carry it) → calendar file, for meters in that zone */
  zoneHolidayFiles?: Record<string, string>;
  /** fraction of meters in the exploration sample (0..1) */
  sampleFraction?: number;
}

export function loadEnrichment(opts: EnrichmentOptions): Enrichment {
  const households =
    opts.householdsFile && existsSync(opts.householdsFile) ? loadHouseholds(opts.householdsFile) : new Map();
  const uk = opts.holidaysFile && existsSync(opts.holidaysFile) ? loadHolidays(opts.holidaysFile) : undefined;
  const zones = new Map(Object.entries(opts.zoneHolidayFiles ?? {}).map(([z, f]) => [z, loadHolidays(f)]));
  const threshold = Math.floor((opts.sampleFraction ?? 0.1) * 2 ** 32);
  return {
    household: (id) => households.get(id),
    calendarOf: (id, tz) => (tz !== undefined && zones.get(tz)) || (households.has(id) ? uk : undefined),
    inSample: (id) => fnv1a(id) < threshold,
  };
}
