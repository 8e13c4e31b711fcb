// Optional side files of the London data: households.csv (tariff, ACORN group) and uk_bank_holidays.csv.
// Both are looked for beside the daily file; when absent the features take their defaults.

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DailyDataset } from './dataset.ts';
import { parseHolidayCalendar } from './holidays.ts';

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
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
  const holidaysPath = join(dir, 'uk_bank_holidays.csv');
  const holidays = await readIfExists(holidaysPath);
  if (holidays) data.holidays = parseHolidayCalendar(holidays, holidaysPath);
  return { households: households !== undefined, holidays: holidays !== undefined };
}
