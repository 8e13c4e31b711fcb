// The compact day state saves and restores what the older one did: a partition's state saved by the
// worker of main before the change (test/fixtures/meters-state, made by its gen.ts) loads, and the
// worker goes on to write the rows that worker wrote; a snapshot plus deltas of this one restores
// exactly too. (The fixture's nextCloseAt values are as this worker moves them on; a state with the
// earlier ones the worker of 2ce75b5 saved restores too.)

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  type FixtureReading,
  fixtureReadings,
  readingMessage,
} from '../../../test/fixtures/meters-state/readings.ts';
import { decodeReading } from '../../domain/meters/reading.ts';
import { METER_TABLES } from '../../domain/meters/tables.ts';
import { BatchOutputs } from '../../stream/outputs.ts';
import { DEFAULT_METERS_CONFIG, MetersProcessor } from './processor.ts';
import {
  applyPartitionDelta,
  type PartitionState,
  partitionStateFromJSON,
  partitionStateToJSON,
  partitionStateToJSONText,
} from './state.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/meters-state/state-main.json', import.meta.url), 'utf8'),
) as { state: unknown; rows: Record<'daily' | 'silver' | 'monthly', Record<string, unknown>[]> };

function processor(state?: PartitionState) {
  return new MetersProcessor(
    {
      config: DEFAULT_METERS_CONFIG,
      enrichment: { household: () => undefined, calendarOf: () => undefined, inSample: () => false },
      forecaster: { version: 0, predict: () => 0 },
      decode: (b) => decodeReading(b),
      now: () => 0,
    },
    state,
  );
}

const msg = readingMessage;

const { readings, saveAfter } = fixtureReadings();

/** Feeds readings [from, to) and returns the outputs. */
function feed(p: MetersProcessor, from: number, to: number, out = new BatchOutputs()) {
  for (let i = from; i < to; i++) p.process(msg(readings[i], i), out);
  return out;
}

const rowsOf = (out: BatchOutputs) =>
  Object.fromEntries(
    (['daily', 'silver', 'monthly'] as const).map((t) => [
      t,
      JSON.parse(JSON.stringify(out.rowsFor(METER_TABLES[t].path))),
    ]),
  );

describe('meters state saved by the older worker (main at e50e131)', () => {
  it('loads, and the worker writes the rows the older worker wrote after it', () => {
    // (a copy: the restored months are the parsed objects, and the worker changes them)
    const p = processor(partitionStateFromJSON(structuredClone(fixture.state)));
    const out = feed(p, saveAfter, readings.length);
    p.flush(out);
    assert.ok(fixture.rows.silver.length > 100, 'the fixture holds the rest of the DST day and more');
    assert.deepEqual(rowsOf(out), fixture.rows);
  });

  it('is saved in the same form by this worker after the same readings', () => {
    const p = processor();
    feed(p, 0, saveAfter);
    assert.deepEqual(JSON.parse(partitionStateToJSONText(p.state)), fixture.state);
    assert.deepEqual(JSON.parse(JSON.stringify(partitionStateToJSON(p.state))), fixture.state);
  });
});

describe('meters state saved before nextCloseAt was moved on (main at 2ce75b5)', () => {
  // what that worker saved after the fixture's readings: each meter's first day's close, long behind
  // its watermark (it kept the real next due time beside the state, unsaved)
  const older: Record<string, number | null> = {
    'E-LON': 1364695200000,
    'E-KOL': 1364675400000,
    'W-FIX': 1364688000000,
  };
  /** The fixture's state with each meter's nextCloseAt as `at` gives it, restored; closeDue counted. */
  function restored(at: (id: string) => number | null) {
    const state = structuredClone(fixture.state) as { meters: { id: string; nextCloseAt: number | null }[] };
    for (const m of state.meters) m.nextCloseAt = at(m.id);
    const p = processor(partitionStateFromJSON(state));
    const spied = p as unknown as { closeDue: (m: { id: string }, ...a: unknown[]) => void };
    const closeDue = spied.closeDue.bind(p);
    const scans = new Map<string, number>();
    spied.closeDue = (m, ...a) => {
      scans.set(m.id, (scans.get(m.id) ?? 0) + 1);
      closeDue(m, ...a);
    };
    return { p, scans };
  }

  it('restores, writes the same rows and state, and costs one more scan a meter at most', () => {
    const now = restored(
      (id) =>
        (fixture.state as { meters: { id: string; nextCloseAt: number }[] }).meters.find((m) => m.id === id)!
          .nextCloseAt,
    );
    const nowOut = feed(now.p, saveAfter, readings.length);
    for (const at of [(id: string) => older[id], () => null]) {
      // (null: a state whose nextCloseAt was an infinity, which JSON writes as null)
      const before = restored(at);
      const out = feed(before.p, saveAfter, readings.length);
      assert.deepEqual(rowsOf(out), rowsOf(nowOut));
      assert.equal(partitionStateToJSONText(before.p.state), partitionStateToJSONText(now.p.state));
      for (const id of Object.keys(older)) {
        const n = now.scans.get(id) ?? 0;
        const b = before.scans.get(id) ?? 0;
        assert.ok(b === n || b === n + 1, `${id}: ${b} scans against ${n}`);
      }
    }
    // the rest of the readings closed days (so the scans above counted something)
    assert.ok([...now.scans.values()].every((n) => n >= 1));
    now.p.flush(nowOut);
    assert.deepEqual(rowsOf(nowOut), fixture.rows);
  });
});

describe('compact meters state round trip', () => {
  it('restores from a snapshot and deltas exactly as if the worker had never stopped', () => {
    const whole = processor();
    const wholeOut = feed(whole, 0, readings.length);
    whole.flush(wholeOut);

    // a worker saving a snapshot, then a delta after each of a few batches
    const w = processor();
    const first = feed(w, 0, 700);
    const snapshot = partitionStateToJSONText(w.state);
    w.changes.saved();
    const deltas: string[] = [];
    const outs = [first];
    for (const [a, b] of [
      [700, 1200],
      [1200, 1201],
      [1201, saveAfter],
    ]) {
      outs.push(feed(w, a, b));
      deltas.push(w.changes.deltaText(w.state));
      w.changes.saved();
    }
    // another worker restores the snapshot and deltas, and goes on
    const state = partitionStateFromJSON(JSON.parse(snapshot));
    for (const d of deltas) applyPartitionDelta(state, JSON.parse(d));
    assert.equal(partitionStateToJSONText(state), partitionStateToJSONText(w.state));
    const r = processor(state);
    const rest = feed(r, saveAfter, readings.length);
    r.flush(rest);
    outs.push(rest);

    const merged = (t: 'daily' | 'silver' | 'monthly') => {
      // later rows of a key replace earlier ones, as the lake's upserts do
      const byKey = new Map<string, unknown>();
      for (const o of outs)
        for (const row of JSON.parse(JSON.stringify(o.rowsFor(METER_TABLES[t].path))))
          byKey.set(`${row.meter_id}|${row.hour ?? ''}|${row.day ?? row.month}`, row);
      return [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1]);
    };
    const expected = (t: 'daily' | 'silver' | 'monthly') => {
      const byKey = new Map<string, unknown>();
      for (const row of JSON.parse(JSON.stringify(wholeOut.rowsFor(METER_TABLES[t].path))))
        byKey.set(`${row.meter_id}|${row.hour ?? ''}|${row.day ?? row.month}`, row);
      return [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1]);
    };
    for (const t of ['daily', 'silver', 'monthly'] as const) assert.deepEqual(merged(t), expected(t), t);
    assert.deepEqual(r.state.counters, whole.state.counters);
  });
});

describe('state texts made from object literals', () => {
  it('parse to what JSON.stringify of the state made, in snapshots and deltas, and the deltas alone keep the state, across a month end', () => {
    // three meters from 28 March to 3 April: a month closes (its predictions, means and totals),
    // a water register (no zone, a fixed offset), and a day or more dropped after retention
    const rs: FixtureReading[] = [];
    const from = Date.parse('2013-03-24T00:00:00Z');
    let register = 500;
    for (let i = 0; i < 48 * 10; i++) {
      const t = from + i * 1_800_000;
      const base = { v: 1 as const, seq: i, value: 0.1 + (i % 5) * 0.01 };
      rs.push({
        ...base,
        meter_id: 'E-LON',
        kind: 'electricity',
        ts: new Date(t).toISOString(),
        unit: 'kWh',
        type: 'interval',
        tz: 'Europe/London',
      });
      rs.push({
        ...base,
        meter_id: 'E-KOL',
        kind: 'electricity',
        ts: new Date(t).toISOString(),
        unit: 'kWh',
        type: 'interval',
        tz: 'Asia/Kolkata',
      });
      register += i % 4;
      const local = new Date(t + 2 * 3_600_000).toISOString().slice(0, 19);
      rs.push({
        ...base,
        meter_id: 'W-FIX',
        kind: 'water',
        ts: `${local}+02:00`,
        value: register,
        unit: 'L',
        type: 'cumulative',
      });
    }
    const p = processor();
    const seen = new Set<string>();
    // a second state kept by the deltas alone, from the first (empty) snapshot
    const restored = partitionStateFromJSON(JSON.parse(partitionStateToJSONText(p.state)));
    for (let a = 0; a < rs.length; a += 97) {
      feed2(p, rs, a, Math.min(a + 97, rs.length));
      const delta = JSON.parse(p.changes.deltaText(p.state)) as { meters: Record<string, unknown>[] };
      p.changes.saved();
      applyPartitionDelta(restored, structuredClone(delta));
      assert.equal(partitionStateToJSONText(restored), partitionStateToJSONText(p.state));
      const reference = JSON.parse(JSON.stringify(partitionStateToJSON(p.state))) as {
        meters: { id: string; days: { day: string }[]; months: { month: string }[] }[];
      };
      assert.deepEqual(JSON.parse(partitionStateToJSONText(p.state)), reference);
      for (const dm of delta.meters) {
        const { days, months, dropDays, dropMonths, ...fields } = dm as {
          id: string;
          days: { day: string }[];
          months: { month: string }[];
          dropDays?: string[];
          dropMonths?: string[];
        };
        const ref = reference.meters.find((m) => m.id === fields.id)!;
        const { days: refDays, months: refMonths, ...refFields } = ref;
        if ((fields as { update?: boolean }).update === true) {
          // a meter the state already held: only what changed, each as the reference has it
          const { update: _, ...changed } = fields as Record<string, unknown>;
          const refAll = refFields as Record<string, unknown>;
          for (const k of Object.keys(changed)) assert.deepEqual(changed[k], refAll[k], k);
          for (const k of ['kind', 'unit', 'tz', 'fixedOffset']) assert.ok(!(k in changed), k);
          seen.add(changed.lastMonthDaily === undefined ? 'update' : 'update after a month closed');
        } else assert.deepEqual(fields, refFields);
        for (const d of days) {
          const r = refDays.find((x) => x.day === d.day) as unknown as Record<string, unknown> & {
            hourList: number[];
          };
          const part = (d as { hourPart?: number[] }).hourPart;
          if (part === undefined) {
            assert.deepEqual(d, r);
            continue;
          }
          // a day the delta only updates: what can change, and the hours changed (from the whole day's)
          seen.add('hourPart');
          const { hourPart, ...rest } = d as unknown as Record<string, unknown> & { hourPart: number[] };
          assert.deepEqual(rest, {
            day: r.day,
            sum: r.sum,
            n: r.n,
            closed: r.closed,
            written: r.written,
            seenRuns: r.seenRuns,
          });
          assert.ok(hourPart.length <= r.hourList.length);
          if (hourPart.length < r.hourList.length) seen.add('fewer hours than the whole day');
          for (let i = 0; i < hourPart.length; i += 3) {
            const at = r.hourList.indexOf(hourPart[i]);
            assert.deepEqual(hourPart.slice(i, i + 3), r.hourList.slice(at, at + 3));
          }
        }
        for (const mo of months)
          assert.deepEqual(
            mo,
            refMonths.find((x) => x.month === mo.month),
          );
        for (const k of Object.keys(refFields)) seen.add(k);
        if (dropDays) seen.add('dropDays');
        if (months.some((mo) => (mo as unknown as { predictions: unknown[] }).predictions.length > 0))
          seen.add('predictions');
      }
    }
    // the run went through what the texts must say
    for (const k of [
      'register',
      'tz',
      'completeMonthTotals',
      'lastMonthDaily',
      'dropDays',
      'predictions',
      'hourPart',
      'update',
      'update after a month closed',
    ])
      assert.ok(seen.has(k), k);
  });
});

function feed2(p: MetersProcessor, rs: FixtureReading[], from: number, to: number) {
  const out = new BatchOutputs();
  for (let i = from; i < to; i++) p.process(msg(rs[i], i), out);
  return out;
}
