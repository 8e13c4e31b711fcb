// Household metadata (tariff, ACORN group) and bank holidays for the silver table, and the
// deterministic exploration sample. Loaded once at start; absent files mean no enrichment.

import { existsSync, readFileSync } from 'node:fs';
import { LakestreamError } from '../../errors.ts';

export interface Household {
  tariff?: string;
  acorn?: string;
  acornGroup?: string;
}

export interface Enrichment {
  household(meterId: string): Household | undefined;
  holidays: ReadonlySet<string>;
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

/** uk_bank_holidays.csv: a date column (YYYY-MM-DD or DD/MM/YYYY) per row */
export function loadHolidays(path: string): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/).slice(1)) {
    for (const f of splitCsvLine(line)) {
      const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(f);
      const dmy = /^(\d{1,2})\/(\d{1,2})\/(\d{4})/.exec(f);
      if (iso) out.add(`${iso[1]}-${iso[2]}-${iso[3]}`);
      else if (dmy) out.add(`${dmy[3]}-${dmy[2].padStart(2, '0')}-${dmy[1].padStart(2, '0')}`);
    }
  }
  return out;
}

export interface EnrichmentOptions {
  householdsFile?: string;
  holidaysFile?: string;
  /** fraction of meters in the exploration sample (0..1) */
  sampleFraction?: number;
}

export function loadEnrichment(opts: EnrichmentOptions): Enrichment {
  const households =
    opts.householdsFile && existsSync(opts.householdsFile) ? loadHouseholds(opts.householdsFile) : new Map();
  const holidays =
    opts.holidaysFile && existsSync(opts.holidaysFile) ? loadHolidays(opts.holidaysFile) : new Set<string>();
  const threshold = Math.floor((opts.sampleFraction ?? 0.1) * 2 ** 32);
  return {
    household: (id) => households.get(id),
    holidays,
    inSample: (id) => fnv1a(id) < threshold,
  };
}
