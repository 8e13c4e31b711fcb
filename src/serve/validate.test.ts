// API parameter validation: every refusal is a 400 naming its parameter.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoGranularity } from './data/consumption.ts';
import { HttpError } from './http.ts';
import * as v from './validate.ts';

const q = (s: string) => new URLSearchParams(s);
const refuses = (fn: () => unknown, param: string) =>
  assert.throws(
    fn,
    (e) =>
      e instanceof HttpError && e.status === 400 && e.param === param && e.message.includes(`"${param}"`),
  );

describe('API parameter validation', () => {
  it('accepts real calendar days and refuses impossible or malformed ones', () => {
    assert.equal(v.day(q('from=2012-02-29'), 'from'), '2012-02-29');
    assert.equal(v.day(q(''), 'from'), undefined);
    refuses(() => v.day(q('from=2013-02-29'), 'from'), 'from');
    refuses(() => v.day(q('to=2013-1-5'), 'to'), 'to');
    refuses(() => v.month(q('month=2013-13'), 'month'), 'month');
  });

  it('refuses unknown and repeated parameters, values outside a list, and numbers out of range', () => {
    refuses(() => v.onlyParams(q('meter=A&colour=red'), ['meter']), 'colour');
    refuses(() => v.onlyParams(q('meter=A&meter=B'), ['meter']), 'meter');
    refuses(() => v.oneOf(q('kind=gas'), 'kind', ['electricity', 'water'], 'electricity'), 'kind');
    refuses(() => v.int(q('limit=0'), 'limit', 50, 1, 500), 'limit');
    refuses(() => v.meterId(q("meter=x' OR 1=1"), 'meter'), 'meter');
    assert.equal(v.int(q('limit=7'), 'limit', 50, 1, 500), 7);
  });

  it('counts days inclusively and picks hourly up to a month, daily up to a year, weekly up to three years', () => {
    assert.equal(v.daysBetween('2013-01-01', '2013-01-31'), 31);
    assert.equal(v.addDays('2013-03-01', -1), '2013-02-28');
    assert.equal(autoGranularity(31), 'hour');
    assert.equal(autoGranularity(365), 'day');
    assert.equal(autoGranularity(1096), 'week');
    assert.equal(autoGranularity(3650), 'month');
  });
});
