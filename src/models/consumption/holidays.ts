// The one parser of holiday calendar files (date,name per row), used by silver's is_holiday, training,
// evaluation and the stream's forecast alike.
//
// The shipped uk_bank_holidays.csv wrote some dates month-first (2013-01-04 "Easter Monday" is 1 April
// 2013). A date alone cannot tell, so each row's name decides: of the date as written and its day/month
// swap, the parser keeps the one the holiday's rule allows —
//   Good Friday / Easter Monday: Easter Sunday − 2 / + 1 (Gregorian computus);
//   New Year's Day, Christmas Day, Boxing Day: 1 Jan, 25 Dec, 26 Dec;
//   Early May / Spring / Summer bank holiday: a Monday in May / May or June / August;
//   a substitute day: a Monday or Tuesday (it follows a holiday that fell on a weekend);
//   any other bank holiday (an extra one, as the 2012 Jubilee): a weekday.
// Any other name (another country's calendar given by the user) is taken as written.
// A row that both or neither reading satisfies is refused, naming its line: never a guessed date.

import { LakestreamError } from '../../errors.ts';
import { isIsoDate } from './calendar.ts';

/** Easter Sunday of a Gregorian year as [month, day] (the anonymous Gregorian algorithm). */
export function easterSunday(year: number): [number, number] {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return [month, day];
}

const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
const DAY_MS = 86_400_000;

/** Whether a date (y, m, d) may be the holiday called `name`, by the rules in the header. */
export function allowedFor(name: string, y: number, m: number, d: number): boolean {
  const wd = new Date(utc(y, m, d)).getUTCDay();
  const n = name.toLowerCase();
  const [em, ed] = easterSunday(y);
  const offsetFromEaster = (utc(y, m, d) - utc(y, em, ed)) / DAY_MS;
  if (n.includes('substitute')) return wd === 1 || wd === 2;
  if (n.includes('good friday')) return offsetFromEaster === -2;
  if (n.includes('easter monday')) return offsetFromEaster === 1;
  if (n.includes('new year')) return m === 1 && d === 1;
  if (n.includes('christmas')) return m === 12 && d === 25;
  if (n.includes('boxing')) return m === 12 && d === 26;
  if (n.includes('early may')) return wd === 1 && m === 5;
  if (n.includes('spring bank')) return wd === 1 && (m === 5 || m === 6);
  if (n.includes('summer bank')) return wd === 1 && m === 8;
  return wd >= 1 && wd <= 5;
}

/** Names the rules above know; a date of any other holiday is read as written. */
const RULED = /substitute|good friday|easter monday|new year|christmas|boxing|bank holiday/i;

/** Holidays as 'YYYY-MM-DD' from a calendar file's text (header, then date,name rows). */
export function parseHolidayCalendar(text: string, source = 'holiday calendar'): Set<string> {
  const out = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const comma = line.indexOf(',');
    const written = (comma < 0 ? line : line.slice(0, comma)).trim();
    const name = comma < 0 ? '' : line.slice(comma + 1).trim();
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(written);
    if (!m)
      throw new LakestreamError('BAD_INPUT', `${source}:${i + 1}: "${written}" is not a date YYYY-MM-DD`);
    const [, y, a, b] = m;
    const ruled = RULED.test(name);
    const candidates = ruled ? [`${y}-${a}-${b}`, `${y}-${b}-${a}`] : [`${y}-${a}-${b}`];
    const readings = [...new Set(candidates)].filter(
      (s) =>
        isIsoDate(s) &&
        (!ruled || allowedFor(name, Number(y), Number(s.slice(5, 7)), Number(s.slice(8, 10)))),
    );
    if (readings.length !== 1)
      throw new LakestreamError(
        'BAD_INPUT',
        `${source}:${i + 1}: ${written} "${name}": ${readings.length === 0 ? 'neither the date nor its day/month swap is' : 'both the date and its day/month swap are'} a possible date of that holiday`,
      );
    out.add(readings[0]);
  }
  return out;
}
