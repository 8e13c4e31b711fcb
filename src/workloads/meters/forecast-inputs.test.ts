// What the stream hands the forecast is what training and evaluation compute from the same days
// (src/models/consumption/dataset.ts): last year's month only when it was complete.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReading } from '../../domain/meters/reading.ts';
import type { MeterMonthState } from '../../models/consumption/state.ts';
import { BatchOutputs } from '../../stream/outputs.ts';
import { DEFAULT_METERS_CONFIG, MetersProcessor } from './processor.ts';

/** Replays half-hourly readings of one meter from `from` to `to`, leaving out the day `gap`; returns the states predicted. */
function replay(from: string, to: string, gap?: string): MeterMonthState[] {
  const seen: MeterMonthState[] = [];
  const p = new MetersProcessor({
    config: DEFAULT_METERS_CONFIG,
    enrichment: { household: () => undefined, calendarOf: () => undefined, inSample: () => false },
    forecaster: {
      version: 1,
      predict: (s) => {
        seen.push(s);
        return 0;
      },
    },
    decode: (b) => decodeReading(b),
    now: () => 0,
  });
  const out = new BatchOutputs();
  let seq = 0;
  for (let t = Date.parse(from); t < Date.parse(to); t += 1_800_000) {
    const ts = new Date(t).toISOString();
    if (gap && ts.startsWith(gap) && ts.slice(11, 16) === '12:00') continue;
    const reading = {
      v: 1,
      meter_id: 'M',
      kind: 'electricity',
      ts,
      value: 0.5 + (seq % 5) * 0.1,
      unit: 'kWh',
      type: 'interval',
      seq: seq++,
    };
    p.process(
      {
        topic: 't',
        partition: 0,
        offset: seq,
        key: null,
        value: new TextEncoder().encode(JSON.stringify(reading)),
        timestamp: 0,
      },
      out,
    );
  }
  return seen;
}

describe("the stream's forecast inputs", () => {
  it("give last year's month total when that month was complete", () => {
    const states = replay('2012-01-01T00:00:00Z', '2013-01-05T00:00:00Z').filter(
      (s) => s.month === '2013-01',
    );
    assert.ok(states.length > 0);
    for (const s of states) assert.ok(s.sameMonthLastYearTotal! > 0);
  });

  it("leave last year's month unknown when one of its days was incomplete, as training does", () => {
    const states = replay('2012-01-01T00:00:00Z', '2013-01-05T00:00:00Z', '2012-01-17').filter(
      (s) => s.month === '2013-01',
    );
    assert.ok(states.length > 0);
    for (const s of states) assert.equal(s.sameMonthLastYearTotal, undefined);
  });
});
