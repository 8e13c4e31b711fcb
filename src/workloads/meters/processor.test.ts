import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeReading } from '../../domain/meters/reading.ts';
import { METER_TABLES } from '../../domain/meters/tables.ts';
import { BatchOutputs } from '../../stream/outputs.ts';
import type { Message } from '../../transport/index.ts';
import { DEFAULT_METERS_CONFIG, type Forecaster, MetersProcessor } from './processor.ts';
import {
  partitionStateFromJSON,
  partitionStateToJSON,
  partitionStateToJSONBytes,
  partitionStateToJSONText,
} from './state.ts';

const runRate: Forecaster = {
  version: 0,
  predict: (s) => {
    const vals = s.daily.filter((v): v is number => v !== null);
    return (vals.reduce((a, b) => a + b, 0) / Math.max(1, vals.length)) * s.daysInMonth;
  },
};

const noEnrichment = { household: () => undefined, calendarOf: () => undefined, inSample: () => false };

function processor() {
  return new MetersProcessor({
    config: DEFAULT_METERS_CONFIG,
    enrichment: noEnrichment,
    forecaster: runRate,
    decode: (b) => decodeReading(b),
    now: () => Date.parse('2020-01-01T00:00:00Z'),
  });
}

let offset = 0;
function msg(obj: unknown): Message {
  const value =
    typeof obj === 'string' ? new TextEncoder().encode(obj) : new TextEncoder().encode(JSON.stringify(obj));
  return {
    topic: 'meters.readings',
    partition: 0,
    offset: offset++,
    key: null,
    value,
    timestamp: Date.now(),
  };
}

function halfHourly(
  meter: string,
  fromIso: string,
  count: number,
  value = (i: number) => 0.5 + (i % 3) * 0.1,
) {
  const start = Date.parse(fromIso);
  return Array.from({ length: count }, (_, i) => ({
    v: 1,
    meter_id: meter,
    kind: 'electricity',
    ts: new Date(start + i * 1_800_000).toISOString(),
    value: value(i),
    unit: 'kWh',
    type: 'interval',
    seq: i,
  }));
}

const daily = (out: BatchOutputs) => out.rowsFor(METER_TABLES.daily.path);

describe('meters processor', () => {
  it('closes a day once the meter is past it and sums its readings exactly', () => {
    const p = processor();
    const out = new BatchOutputs();
    const rows = halfHourly('M1', '2013-01-01T00:00:00Z', 48 * 2 + 3);
    for (const r of rows) p.process(msg(r), out);
    const d = daily(out);
    assert.equal(d.length, 1, 'only the first day has closed (the second is within the allowed lateness)');
    const expected = rows.slice(0, 48).reduce((a, r) => a + r.value, 0);
    assert.ok(Math.abs((d[0].value as number) - expected) < 1e-9);
    assert.equal(d[0].day, '2013-01-01');
    assert.equal(d[0].n_readings, 48);
    assert.equal(d[0].complete, true);
    assert.equal(out.rowsFor(METER_TABLES.silver.path).length, 24);
    assert.equal(out.rowsFor(METER_TABLES.bronze.path).length, rows.length);
  });

  it('drops duplicates and counts read = accepted + quarantined + duplicates', () => {
    const p = processor();
    const out = new BatchOutputs();
    const rows = halfHourly('M1', '2013-01-01T00:00:00Z', 10);
    for (const r of [...rows, rows[3], rows[4]]) p.process(msg(r), out);
    p.process(msg('{not json'), out);
    p.process(msg({ ...rows[0], value: -1 }), out);
    const c = p.state.counters;
    assert.equal(c.duplicates, 2);
    assert.equal(c.quarantined, 2);
    assert.equal(c.read, c.accepted + c.quarantined + c.duplicates);
    assert.deepEqual(
      out.rowsFor(METER_TABLES.quarantine.path).map((r) => r.reason),
      ['malformed-json', 'negative-interval'],
    );
  });

  it('corrects a closed day when a late reading arrives, replacing its gold row', () => {
    const p = processor();
    const out1 = new BatchOutputs();
    const rows = halfHourly('M1', '2013-01-01T00:00:00Z', 48 * 3);
    const late = rows.splice(10, 1)[0];
    for (const r of rows) p.process(msg(r), out1);
    const before = daily(out1).find((r) => r.day === '2013-01-01')!;
    assert.equal(before.complete, false);
    const out2 = new BatchOutputs();
    p.process(msg(late), out2);
    const after = daily(out2);
    assert.equal(after.length, 1);
    assert.equal(after[0].complete, true);
    assert.ok(Math.abs((after[0].value as number) - ((before.value as number) + late.value)) < 1e-9);
    assert.ok(out2.replaced.get(METER_TABLES.daily.path)?.has('M1|2013-01-01'));
  });

  it('predicts from day 3 and records outcomes for every as_of_day at month close', () => {
    const p = processor();
    const out = new BatchOutputs();
    for (const r of halfHourly('M1', '2013-01-01T00:00:00Z', 48 * 32 + 6)) p.process(msg(r), out);
    const preds = out.rowsFor(METER_TABLES.predictions.path);
    assert.deepEqual(
      preds.map((r) => r.as_of_day),
      Array.from({ length: 29 }, (_, i) => i + 3),
    );
    const outcomes = out.rowsFor(METER_TABLES.outcomes.path);
    assert.equal(outcomes.length, 29);
    const monthly = out.rowsFor(METER_TABLES.monthly.path);
    assert.equal(monthly.length, 1);
    assert.equal(monthly[0].complete, true);
    for (const o of outcomes) assert.equal(o.actual_total, monthly[0].value);
  });

  it('turns a water register into diffs and quarantines a negative one without summing it', () => {
    const p = processor();
    const out = new BatchOutputs();
    const regs = [100, 110, 105, 130, 131];
    for (const [i, v] of regs.entries())
      p.process(
        msg({
          v: 1,
          meter_id: 'W1',
          kind: 'water',
          ts: `2016-03-01T0${i}:00:00+01:00`,
          value: v,
          unit: 'L',
          type: 'cumulative',
          seq: i,
          tz: 'Europe/Madrid',
        }),
        out,
      );
    p.flush(out);
    const d = daily(out);
    assert.equal(d.length, 1);
    assert.equal(d[0].value, 10 + 25 + 1);
    assert.equal(d[0].closed, false);
    const q = out.rowsFor(METER_TABLES.quarantine.path);
    assert.deepEqual(
      q.map((r) => r.reason),
      ['negative-diff'],
    );
    assert.equal(p.state.counters.accepted, 5);
  });

  it('resumes from saved state exactly as if it had never stopped', () => {
    const rows = halfHourly('M1', '2013-01-01T00:00:00Z', 48 * 5);
    const a = processor();
    const outA = new BatchOutputs();
    for (const r of rows) a.process(msg(r), outA);

    const b = processor();
    const outB1 = new BatchOutputs();
    for (const r of rows.slice(0, 100)) b.process(msg(r), outB1);
    const saved = JSON.parse(JSON.stringify(partitionStateToJSON(b.state)));
    const c = new MetersProcessor(
      {
        config: DEFAULT_METERS_CONFIG,
        enrichment: noEnrichment,
        forecaster: runRate,
        decode: (x) => decodeReading(x),
        now: () => Date.parse('2020-01-01T00:00:00Z'),
      },
      partitionStateFromJSON(saved),
    );
    const outB2 = new BatchOutputs();
    for (const r of rows.slice(100)) c.process(msg(r), outB2);
    const strip = (rs: Record<string, unknown>[]) => rs.map((r) => JSON.stringify(r)).sort();
    assert.deepEqual(strip([...daily(outB1), ...daily(outB2)]), strip(daily(outA)));
  });
});

describe('meters state for the manifest', () => {
  it('gives as JSON text what it gives as an object, also after a late reading changed a closed day', () => {
    const p = processor();
    const out = new BatchOutputs();
    const rows = halfHourly('M1', '2013-01-01T00:00:00Z', 48 * 3);
    const late = rows.splice(30, 1); // a reading of day 1, held back until its day has closed
    const same = () => assert.deepEqual(JSON.parse(partitionStateToJSONText(p.state)), toObject());
    const toObject = () => JSON.parse(JSON.stringify(partitionStateToJSON(p.state)));
    for (const r of rows.slice(0, 100)) p.process(msg(r), out);
    same();
    for (const r of rows.slice(100)) p.process(msg(r), out);
    const before = partitionStateToJSONText(p.state);
    same();
    assert.equal(toObject().meters[0].days[0].closed, true, 'day 1 is closed (and its text kept)');
    p.process(msg(late[0]), out);
    same();
    assert.notEqual(partitionStateToJSONText(p.state), before);
    assert.equal(toObject().meters[0].days[0].n, 48, 'the late reading is in day 1');
  });
});

describe('meters snapshot as bytes', () => {
  it('are the UTF-8 of the JSON text, also when made in many pieces (a state of several MB)', () => {
    const p = processor();
    const out = new BatchOutputs();
    const ids = Array.from({ length: 3000 }, (_, i) => `M${i}`);
    for (const id of ids) for (const r of halfHourly(id, '2013-01-01T00:00:00Z', 48)) p.process(msg(r), out);
    const text = partitionStateToJSONText(p.state);
    assert.ok(text.length > 2 * 1024 * 1024, `a state of ${text.length} characters spans several pieces`);
    const bytes = partitionStateToJSONBytes(p.state);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(text, 'utf8'));
    assert.equal(JSON.parse(new TextDecoder().decode(bytes)).meters.length, 3000);
  });
});

describe('meters processor at the end of a bounded input', () => {
  it("counts the open days in the open month's total", () => {
    const p = processor();
    const out = new BatchOutputs();
    const rows = halfHourly('M1', '2013-03-01T00:00:00Z', 48 * 4 + 10);
    for (const r of rows) p.process(msg(r), out);
    p.flush(out);
    const month = out.rowsFor(METER_TABLES.monthly.path);
    assert.equal(month.length, 1);
    assert.equal(month[0].closed, false);
    const total = rows.reduce((a, r) => a + r.value, 0);
    assert.ok(Math.abs((month[0].value as number) - total) < 1e-9, `${month[0].value} vs ${total}`);
    const days = daily(out);
    assert.ok(Math.abs(days.reduce((a, d) => a + (d.value as number), 0) - total) < 1e-9);
  });

  it('looks for days and months to close only when one is due, and still releases days after the retention', () => {
    const p = processor();
    const out = new BatchOutputs();
    // counts the scans of a meter's days and months (a due time left behind the watermark made one per reading)
    const spied = p as unknown as { closeDue: (...a: unknown[]) => void };
    const closeDue = spied.closeDue.bind(p);
    let scans = 0;
    spied.closeDue = (...a) => {
      scans++;
      closeDue(...a);
    };
    for (const r of halfHourly('M1', '2013-01-01T00:00:00Z', 48 * 10)) p.process(msg(r), out);
    // nine days closed and two released, each at its own reading (one more where a release falls
    // on a reading's instant: released at the next)
    assert.ok(scans >= 11 && scans <= 13, `${scans} scans`);
    const m = p.state.meters.get('M1')!;
    // closed days are released 7 days after they end: by 01-10 23:30, 01-01 and 01-02 are gone
    assert.deepEqual(
      [...m.days].map(([day]) => day).sort(),
      [3, 4, 5, 6, 7, 8, 9, 10].map((d) => `2013-01-${String(d).padStart(2, '0')}`),
    );
    assert.equal(daily(out).length, 9, 'nine days closed, the tenth within its allowed lateness');
    const late = new BatchOutputs();
    const [tooLate] = halfHourly('M1', '2013-01-02T00:15:00Z', 1);
    const [inTime] = halfHourly('M1', '2013-01-03T00:15:00Z', 1);
    p.process(msg(tooLate), late);
    p.process(msg(inTime), late);
    assert.deepEqual(
      late.rowsFor(METER_TABLES.quarantine.path).map((r) => r.reason),
      ['too-late'],
    );
    assert.deepEqual(
      daily(late).map((d) => [d.day, d.n_readings]),
      [['2013-01-03', 49]],
    );
  });
});
