// Optional side files of the London data: households.csv (tariff, ACORN group) and uk_bank_holidays.csv.
// Both are looked for beside the daily file; when absent the features take their defaults.

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DailyDataset } from './dataset.ts';

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Bank holidays as 'YYYY-MM-DD'. The shipped file wrote dates whose day is ≤ 12 month-first
 * (2012-06-04 "Good Friday" is 6 April 2012; 2013-01-04 "Easter Monday" is 1 April 2013), so those are swapped back.
 */
export function parseBankHolidays(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split(/\r?\n/).slice(1)) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(line);
    if (!m) continue;
    const [, y, a, b] = m;
    out.add(Number(b) <= 12 ? `${y}-${b}-${a}` : `${y}-${a}-${b}`);
  }
  return out;
}

/** Adds tariff, ACORN group and holidays from files beside `dataPath`, when they exist. */
export async function attachLondonMetadata(
  data: DailyDataset,
  dataPath: string,
): Promise<{ households: boolean; holidays: boolean }> {
  const dir = dirname(dataPath);
  const households = await readIfExists(join(dir, 'households.csv'));
  if (households) {
    for (const line of households.split(/\r?\n/).slice(1)) {
      const [id, tariff, , group] = line.split(',');
      const s = data.meters.get(id);
      if (!s) continue;
      s.tariff = tariff || undefined;
      s.acornGroup = group || undefined;
    }
  }
  const holidays = await readIfExists(join(dir, 'uk_bank_holidays.csv'));
  if (holidays) data.holidays = parseBankHolidays(holidays);
  return { households: households !== undefined, holidays: holidays !== undefined };
}
