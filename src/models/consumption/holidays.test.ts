import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { easterSunday, parseHolidayCalendar } from './holidays.ts';

const SHIPPED = '/work/shared/data/meters/london/uk_bank_holidays.csv';

/** The published England and Wales bank holidays (gov.uk). */
const PUBLISHED = {
  2012: ['01-02', '04-06', '04-09', '05-07', '06-04', '06-05', '08-27', '12-25', '12-26'],
  2013: ['01-01', '03-29', '04-01', '05-06', '05-27', '08-26', '12-25', '12-26'],
  2014: ['01-01', '04-18', '04-21', '05-05', '05-26', '08-25', '12-25', '12-26'],
};

test('the shipped calendar, swapped rows and all, reads as the published bank holidays of 2012-2014', () => {
  const dates = parseHolidayCalendar(readFileSync(SHIPPED, 'utf8'), SHIPPED);
  const expected = Object.entries(PUBLISHED).flatMap(([y, days]) => days.map((d) => `${y}-${d}`));
  assert.deepEqual([...dates].sort(), expected.sort());
  assert.ok(!dates.has('2013-01-04'), '2013-01-04 "Easter Monday" is 1 April');
  assert.ok(dates.has('2013-04-01'));
});

test('Easter falls on its known Sundays', () => {
  assert.deepEqual(easterSunday(2012), [4, 8]);
  assert.deepEqual(easterSunday(2013), [3, 31]);
  assert.deepEqual(easterSunday(2014), [4, 20]);
  assert.deepEqual(easterSunday(2016), [3, 27]);
});

test('a date written as it is stays, and a swapped one is put back by its name', () => {
  const d = parseHolidayCalendar(
    'date,name\n2013-05-06,Early May bank holiday\n2013-06-05,Early May bank holiday\n',
  );
  assert.deepEqual([...d], ['2013-05-06']);
});

test('a row no reading of which fits its name is refused, naming the line', () => {
  assert.throws(
    () => parseHolidayCalendar('date,name\n2013-01-01,New Year\n2013-03-28,Good Friday\n', 'cal.csv'),
    /cal\.csv:3: 2013-03-28 "Good Friday": neither/,
  );
});

test('holidays of another calendar (not UK bank holidays) are read as written, weekends included', () => {
  const d = parseHolidayCalendar('date,name\n2016-01-06,Epifanía del Señor\n2016-05-01,Fiesta del Trabajo\n');
  assert.deepEqual([...d], ['2016-01-06', '2016-05-01']);
});

test('an extra bank holiday that is a weekday either way is refused rather than guessed', () => {
  assert.throws(
    () => parseHolidayCalendar('date,name\n2013-03-04,Extra bank holiday\n', 'c.csv'),
    /c\.csv:2: .*both/,
  );
});
