// A generated training lake: gold daily of N meters over M months (with missing and incomplete days, a
// share of ToU tariffs, a meter at zero) and silver rows flagging the UK bank holidays of some meters —
// what `bench train` times and what the trainers' equality tests train on. Seeded: the same every run.

import { METER_TABLES } from '../domain/meters/tables.ts';
import { Lake, type Row } from '../lake/index.ts';
import { addMonths, dateOf, daysInMonth, weekdayOf } from '../models/consumption/calendar.ts';
import { mulberry32 } from '../models/random.ts';

/** England's bank holidays of 2011–2014 that the generated silver flags. */
// biome-ignore format: a calendar reads best as rows
const UK_HOLIDAYS = new Set([
  '2011-01-03', '2011-04-22', '2011-04-25', '2011-04-29', '2011-05-02', '2011-05-30', '2011-08-29',
  '2011-12-26', '2011-12-27', '2012-01-02', '2012-04-06', '2012-04-09', '2012-05-07', '2012-06-04',
  '2012-06-05', '2012-08-27', '2012-12-25', '2012-12-26', '2013-01-01', '2013-03-29', '2013-04-01',
  '2013-05-06', '2013-05-27', '2013-08-26', '2013-12-25', '2013-12-26', '2014-01-01', '2014-04-18',
  '2014-04-21', '2014-05-05', '2014-05-26', '2014-08-25', '2014-12-25', '2014-12-26',
]);

export interface TrainLakeOptions {
  meters: number;
  /** months of data (default 36) from firstMonth (default 2011-01) */
  months?: number;
  firstMonth?: string;
  seed?: number;
  /** write silver holiday rows for every third meter (default true) */
  holidays?: boolean;
  log?: (line: string) => void;
}

/** Writes the lake's gold daily (one commit per month) and silver holidays; returns the rows written. */
export async function generateTrainLake(url: string, o: TrainLakeOptions): Promise<{ dailyRows: number }> {
  const rand = mulberry32(o.seed ?? 7);
  const months = o.months ?? 36;
  const first = o.firstMonth ?? '2011-01';
  const meters = Array.from({ length: o.meters }, (_, i) => ({
    id: `GEN${String(i).padStart(6, '0')}`,
    level: Math.exp(rand() * 2 - 0.5), // kWh/day, log-uniform over ~0.6 … 4.5
    weekend: 0.8 + rand() * 0.5,
    tariff: rand() < 0.2 ? 'ToU' : 'Std',
    zero: i === 1, // a meter that consumed nothing: its months have no percentage error
    holidays: o.holidays !== false && i % 3 === 0,
  }));
  const lake = await Lake.open(url);
  try {
    const daily = lake.table(METER_TABLES.daily.path);
    const silver = lake.table(METER_TABLES.silver.path);
    for (const [t, spec] of [
      [daily, METER_TABLES.daily],
      [silver, METER_TABLES.silver],
    ] as const)
      await t.ensure({
        schema: [...spec.schema],
        partitionColumns: [...spec.partitionColumns],
        description: spec.description,
      });
    let dailyRows = 0;
    for (let mi = 0; mi < months; mi++) {
      const month = addMonths(first, mi);
      const season = 1 + 0.3 * Math.cos(((Number(month.slice(5, 7)) - 1) / 12) * 2 * Math.PI);
      const rows: Row[] = [];
      const flagged: Row[] = [];
      for (const m of meters) {
        // some meters start late or leave early: months with no previous month, or no last year
        if ((m.id.endsWith('5') && mi < 14) || (m.id.endsWith('7') && mi > months - 5)) continue;
        for (let d = 1; d <= daysInMonth(month); d++) {
          const day = dateOf(month, d);
          const r = rand();
          if (r < 0.003) continue; // a missing day
          const wd = weekdayOf(month, d);
          const holiday = m.holidays && UK_HOLIDAYS.has(day);
          const weekend = wd === 0 || wd === 6 || holiday ? m.weekend : 1;
          const value = m.zero
            ? 0
            : Math.round(m.level * season * weekend * (0.6 + rand() * 0.8) * 1000) / 1000;
          rows.push(dailyRow(m, day, value, r > 0.006));
          if (holiday) flagged.push(silverRow(m, day));
        }
      }
      await daily.write(rows);
      if (flagged.length > 0) await silver.write(flagged);
      dailyRows += rows.length;
      o.log?.(`  ${month}: ${rows.length.toLocaleString('en-US')} daily rows`);
    }
    return { dailyRows };
  } finally {
    await lake.close();
  }
}

function dailyRow(m: { id: string; tariff: string }, day: string, value: number, complete: boolean): Row {
  return {
    meter_id: m.id,
    kind: 'electricity',
    day,
    value,
    unit: 'kWh',
    n_readings: complete ? 48 : 40,
    expected_readings: 48,
    complete,
    closed: true,
    tariff: m.tariff,
    acorn_group: null,
    month: day.slice(0, 7),
  };
}

/** One hour of a holiday, flagged: what training reads of silver (the meter's holidays). */
function silverRow(m: { id: string; tariff: string }, day: string): Row {
  return {
    meter_id: m.id,
    kind: 'electricity',
    hour: `${day}T12:00:00Z`,
    value: 0.5,
    unit: 'kWh',
    n_readings: 2,
    day,
    local_hour: 12,
    weekday: new Date(`${day}T00:00:00Z`).getUTCDay(),
    is_holiday: true,
    tariff: m.tariff,
    acorn: null,
    acorn_group: null,
    sample: false,
    month: day.slice(0, 7),
  };
}
