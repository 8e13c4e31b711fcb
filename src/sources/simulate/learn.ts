// `profile learn`: estimates a MeterProfile from real readings, streamed in one pass.
// Formats (told by the header): London half-hourly (LCLid,tstp,energy_kwh_hh), London daily
// (LCLid,day,energy_kwh,n_halfhours), UCI hourly (datetime,Global_active_power,…,Voltage,…),
// DAIAD water (user.key;datetime;meter.reading;…, in a zip: litres from register differences).
// Household behaviour follows the local clock, so London's GMT rows are read in Europe/London time.

import { basename } from 'node:path';
import { LakestreamError } from '../../errors.ts';
import { columnIndex, splitCsv } from '../csv.ts';
import { lineText, openLineFiles } from '../io/lines.ts';
import { offsetMinutes } from '../time.ts';
import type { MeterProfile } from './profile.ts';

type Format = 'london-halfhourly' | 'london-daily' | 'uci-hourly' | 'daiad-water';

interface Day {
  slots: Float64Array;
  count: number;
  total: number;
}

const DAY = 86_400_000;
const LONDON = 'Europe/London';

/** Where the shipped default profile comes from, kept with it. */
export const LONDON_ATTRIBUTION =
  'Derived from the Low Carbon London smart-meter trial data, UK Power Networks (London Datastore, open licence).';
const WATER_ATTRIBUTION =
  'Derived from the DAIAD smart water meter trial data (Alicante area), CC BY-SA 4.0: this profile keeps that licence.';
const UCI_ATTRIBUTION =
  'Derived from the UCI "Individual household electric power consumption" data set (Hebrail & Berard), CC BY 4.0.';

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const std = (xs: number[]) => {
  const m = mean(xs);
  return xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
};
const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

export interface LearnOptions {
  /** progress callback: fraction of the file read */
  onProgress?: (fraction: number, rows: number) => void;
  name?: string;
}

export async function learnProfile(path: string, options: LearnOptions = {}): Promise<MeterProfile> {
  const files = await openLineFiles(path);
  if (files.length !== 1)
    throw new LakestreamError('BAD_INPUT', `${path}: expected one CSV file, found ${files.length} entries`);
  const file = files[0];
  let format: Format | undefined;
  let cols: Record<string, number> = {};
  let slotsPerDay = 48;
  // meter → local day number → the day's slots
  const meters = new Map<string, Map<number, Day>>();
  let rows = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const add = (meter: string, localMs: number, value: number, n = 1) => {
    let days = meters.get(meter);
    if (!days) {
      days = new Map();
      meters.set(meter, days);
    }
    const dayNo = Math.floor(localMs / DAY);
    let d = days.get(dayNo);
    if (!d) {
      d = { slots: new Float64Array(slotsPerDay), count: 0, total: 0 };
      days.set(dayNo, d);
    }
    const slot = Math.floor(((localMs - dayNo * DAY) / DAY) * slotsPerDay);
    d.slots[slot] += value;
    d.count += n;
    d.total += value;
    rows++;
    first = Math.min(first, localMs);
    last = Math.max(last, localMs);
  };
  let sep = ',';
  // water: per meter, the previous read (wall time as UTC ms, register)
  const lastRead = new Map<string, { t: number; reg: number }>();
  for await (const batch of file.batches()) {
    for (const raw of batch) {
      const text = lineText(raw);
      if (format === undefined && text.includes(';') && text.includes('user.key')) sep = ';';
      const f = splitCsv(text, sep);
      if (format === undefined) {
        const tryCols = (names: Record<string, string[]>) => {
          const c = columnIndex(f, names);
          return typeof c === 'string' ? undefined : c;
        };
        const formats: [Format, Record<string, string[]>][] = [
          ['london-halfhourly', { id: ['LCLid'], ts: ['tstp'], v: ['energy_kwh_hh', 'energy(kWh/hh)'] }],
          [
            'london-daily',
            {
              id: ['LCLid'],
              day: ['day'],
              v: ['energy_kwh', 'energy_sum'],
              n: ['n_halfhours', 'energy_count'],
            },
          ],
          ['uci-hourly', { ts: ['datetime'], v: ['Global_active_power'], volt: ['Voltage'] }],
          ['daiad-water', { id: ['user.key'], ts: ['datetime'], reg: ['meter.reading'] }],
        ];
        const found = formats
          .map(([name, names]) => [name, tryCols(names)] as const)
          .find(([, c]) => c !== undefined);
        if (!found)
          throw new LakestreamError(
            'BAD_INPUT',
            `${file.label}:1: not a file profile learn reads (London half-hourly or daily, UCI hourly, DAIAD water): header "${f.join(',')}"`,
          );
        format = found[0];
        const c = found[1]!;
        cols = c;
        slotsPerDay = format === 'london-halfhourly' ? 48 : format === 'london-daily' ? 1 : 24;
        continue;
      }
      if (format === 'london-halfhourly') {
        const v = Number(f[cols.v]);
        const t = Date.parse(`${(f[cols.ts] ?? '').trim().slice(0, 19).replace(' ', 'T')}Z`);
        if (!f[cols.v] || !Number.isFinite(v) || v < 0 || Number.isNaN(t)) continue;
        add(f[cols.id], t + offsetMinutes(LONDON, t) * 60_000, v);
      } else if (format === 'london-daily') {
        const v = Number(f[cols.v]);
        const t = Date.parse(`${(f[cols.day] ?? '').trim()}T00:00:00Z`);
        if (Number(f[cols.n]) !== 48 || !Number.isFinite(v) || Number.isNaN(t)) continue; // partial days
        add(f[cols.id], t, v);
      } else if (format === 'daiad-water') {
        // the use since the previous read counts in the hour of this read (local wall time); a
        // negative or huge difference is a glitch, and a gap over 2 h cannot be placed in an hour
        const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(
          (f[cols.ts] ?? '').trim(),
        );
        const reg = Number(f[cols.reg]);
        const id = f[cols.id];
        if (!m || !id || !Number.isFinite(reg)) continue;
        const t = Date.UTC(+m[3], +m[2] - 1, +m[1], +m[4], +m[5], +(m[6] ?? 0));
        const prev = lastRead.get(id);
        lastRead.set(id, { t, reg });
        if (!prev || t <= prev.t || t - prev.t > 2 * 3_600_000) continue;
        const diff = reg - prev.reg;
        if (diff < 0 || diff > 2000) continue;
        add(id, t, diff);
      } else {
        const v = Number(f[cols.v]) / 60; // sum of minute-average kW → kWh
        const t = Date.parse(`${(f[cols.ts] ?? '').trim().replace(' ', 'T')}Z`);
        if (Number(f[cols.volt]) === 0 || !Number.isFinite(v) || Number.isNaN(t)) continue; // gaps
        add('UCI-SCEAUX', t, v);
      }
    }
    options.onProgress?.(file.fraction(), rows);
  }
  if (meters.size === 0)
    throw new LakestreamError('BAD_INPUT', `${file.label}: no usable rows to learn from`);

  // Complete days only: a day with missing slots would read as a low-consumption day.
  // (hourly water reads drift around the clock: 22 of 24 hours make a day)
  const minCount = slotsPerDay === 48 ? 46 : format === 'daiad-water' ? 22 : slotsPerDay;
  const complete = (d: Day) => d.count >= minCount;
  const levels = new Map<string, number>();
  for (const [id, days] of meters) {
    const totals = [...days.values()].filter(complete).map((d) => d.total);
    if (totals.length >= 7 && mean(totals) > 0) levels.set(id, mean(totals));
  }
  if (levels.size === 0)
    throw new LakestreamError('BAD_INPUT', `${file.label}: no meter has a week of complete days`);
  const logs = [...levels.values()].map(Math.log);

  const monthOf = (dayNo: number) => new Date(dayNo * DAY).getUTCMonth();
  const weekdayOf = (dayNo: number) => new Date(dayNo * DAY).getUTCDay();
  const each = (fn: (id: string, level: number, dayNo: number, d: Day) => void) => {
    for (const [id, level] of levels)
      for (const [dayNo, d] of meters.get(id)!) if (complete(d)) fn(id, level, dayNo, d);
  };

  // season: mean relative day total per month, normalised to mean 1 over the months seen
  const monthRel: number[][] = Array.from({ length: 12 }, () => []);
  each((_, level, dayNo, d) => monthRel[monthOf(dayNo)].push(d.total / level));
  let season = monthRel.map((xs) => (xs.length ? mean(xs) : Number.NaN));
  const seasonMean = mean(season.filter((x) => !Number.isNaN(x)));
  season = season.map((x) => (Number.isNaN(x) ? 1 : x / seasonMean));

  // shape: per weekday and local hour, consumption relative to the meter's level and the season
  const cells: number[][] = Array.from({ length: 168 }, () => []);
  each((_, level, dayNo, d) => {
    const w = weekdayOf(dayNo);
    const expectedDay = level * season[monthOf(dayNo)];
    for (let h = 0; h < 24; h++) {
      if (slotsPerDay < 24) {
        cells[w * 24 + h].push(d.total / expectedDay); // daily data: flat within the day
        continue;
      }
      const s = (h * slotsPerDay) / 24;
      let v = 0;
      for (let k = s; k < s + slotsPerDay / 24; k++) v += d.slots[k];
      cells[w * 24 + h].push((v / expectedDay) * 24);
    }
  });
  const raw = cells.map((xs) => (xs.length ? mean(xs) : 1));
  const rawMean = mean(raw);
  const shape = Array.from({ length: 7 }, (_, w) =>
    raw.slice(w * 24, w * 24 + 24).map((x) => round(x / rawMean)),
  );

  // noise: day-to-day (log of day total vs expected) and within the day (slot vs expected × day factor)
  const dayLogs: number[] = [];
  const slotLogs: number[] = [];
  each((_, level, dayNo, d) => {
    const w = weekdayOf(dayNo);
    const weekdayFactor = mean(shape[w]);
    const expectedDay = level * season[monthOf(dayNo)] * weekdayFactor;
    const dayFactor = d.total / expectedDay;
    if (d.total > 0) dayLogs.push(Math.log(dayFactor));
    if (slotsPerDay >= 24) {
      const eps = 0.05 * (level / slotsPerDay);
      for (let k = 0; k < slotsPerDay; k++) {
        const h = Math.floor((k * 24) / slotsPerDay);
        const expected = (level * season[monthOf(dayNo)] * shape[w][h] * dayFactor) / slotsPerDay;
        slotLogs.push(Math.max(-3, Math.min(3, Math.log((d.slots[k] + eps) / (expected + eps)))));
      }
    }
  });

  const onlyOne = levels.size === 1;
  const src = basename(path);
  const water = format === 'daiad-water';
  return {
    version: 1,
    name: options.name ?? src.replace(/\.(csv|gz|zip)+$/g, '').replace(/\.csv$/, ''),
    description:
      `Learned by "lakestream profile learn" from ${src} (${format}): ${levels.size} meters, ${rows} rows.` +
      (onlyOne
        ? ' One meter only: the level spread (sigma) is a typical household value, not learned.'
        : '') +
      (slotsPerDay === 1
        ? ' Daily data: the hour-of-day shape is flat; only weekday factors are learned.'
        : ''),
    attribution: water ? WATER_ATTRIBUTION : format === 'uci-hourly' ? UCI_ATTRIBUTION : LONDON_ATTRIBUTION,
    kind: water ? 'water' : 'electricity',
    level: {
      distribution: 'lognormal',
      mu: round(mean(logs)),
      sigma: onlyOne ? 0.5 : round(std(logs)),
      unit: water ? 'L/day' : 'kWh/day',
    },
    shape,
    season: season.map((x) => round(x)),
    noise: { sigma: round(slotLogs.length ? std(slotLogs) : 0.3), daySigma: round(std(dayLogs)) },
    learnedFrom: {
      file: src,
      format,
      meters: levels.size,
      rows,
      from: new Date(first).toISOString().slice(0, 10),
      to: new Date(last).toISOString().slice(0, 10),
      zone: format === 'london-halfhourly' ? LONDON : water ? 'Europe/Madrid' : 'UTC',
    },
  };
}
