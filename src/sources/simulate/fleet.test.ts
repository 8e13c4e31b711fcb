import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateReading } from '../../domain/meters/reading.ts';
import { simulatedPeriod } from '../open-source.ts';
import { take } from '../testing.ts';
import { type FleetBatch, type FleetSpec, generateFleet, meterId } from './fleet.ts';
import { loadProfile } from './profile.ts';
import { simulateSource } from './simulate-source.ts';

const profile = await loadProfile();

function spec(o: Partial<FleetSpec> = {}): FleetSpec {
  const zone = o.zone ?? 'Europe/London';
  return {
    profile,
    meters: 50,
    seed: 7,
    ...simulatedPeriod({ start: '2013-03-01', days: 14, zone }),
    intervalMinutes: 30,
    zone,
    ...o,
  };
}

function texts(batches: Iterable<FleetBatch>): string[] {
  const out: string[] = [];
  for (const b of batches) {
    let s = 0;
    for (const e of b.ends) {
      out.push(Buffer.from(b.bytes.subarray(s, e)).toString());
      s = e;
    }
  }
  return out;
}

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('simulated meter fleet', () => {
  it('is deterministic per seed, and a meter reads the same whichever slice of the fleet generates it', () => {
    const a = texts(generateFleet(spec(), 0, 50));
    assert.deepEqual(texts(generateFleet(spec(), 0, 50)), a);
    assert.notDeepEqual(texts(generateFleet(spec({ seed: 8 }), 0, 50)), a);
    const slice = texts(generateFleet(spec(), 20, 5));
    assert.deepEqual(
      slice,
      a.filter((t) => /"SIM0000(2[1-5])"/.test(t)),
    );
  });

  it('sends valid readings: half-hourly, local offsets, numbered SIM000001…, 48 per meter per day', () => {
    const rs = texts(
      generateFleet(
        spec({ meters: 3, ...simulatedPeriod({ start: '2013-03-31', days: 1, zone: 'Europe/London' }) }),
        0,
        3,
      ),
    ).map((t) => JSON.parse(t));
    // 2013-03-31 is the spring DST day in London: 23 hours, 46 half hours
    assert.equal(rs.length, 3 * 46);
    assert.deepEqual(
      rs.slice(0, 3).map((r) => r.meter_id),
      ['SIM000001', 'SIM000002', 'SIM000003'],
    );
    assert.equal(rs[0].ts, '2013-03-31T00:00:00+00:00');
    assert.equal(rs.at(-1).ts, '2013-03-31T23:30:00+01:00');
    for (const r of rs)
      assert.equal(validateReading(r, { now: Date.parse('2020-01-01') }).ok, true, JSON.stringify(r));
    assert.equal(meterId(1_000_000, 1_000_000), 'SIM1000000');
  });

  it('follows the profile: the fleet’s hour-of-day curve correlates with its shape, and meter levels spread', () => {
    const s = spec({
      meters: 300,
      ...simulatedPeriod({ start: '2013-01-07', days: 28, zone: 'Europe/London' }),
    });
    const byHour = new Array(24).fill(0);
    const perMeter = new Map<string, number>();
    for (const t of texts(generateFleet(s, 0, 300))) {
      const r = JSON.parse(t);
      byHour[Number(r.ts.slice(11, 13))] += r.value;
      perMeter.set(r.meter_id, (perMeter.get(r.meter_id) ?? 0) + r.value);
    }
    const shapeByHour = Array.from({ length: 24 }, (_, h) => profile.shape.reduce((a, d) => a + d[h], 0));
    assert.ok(pearson(byHour, shapeByHour) > 0.95, `correlation ${pearson(byHour, shapeByHour)}`);
    const logs = [...perMeter.values()].map((v) => Math.log(v / 28));
    const mean = logs.reduce((a, b) => a + b) / logs.length;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (logs.length - 1));
    // daily levels: lognormal around exp(mu) with the profile's spread (January is above the year's mean)
    assert.ok(Math.abs(sd - profile.level.sigma) < 0.15, `level spread ${sd} vs ${profile.level.sigma}`);
    assert.ok(
      mean > profile.level.mu && mean < profile.level.mu + 0.5,
      `mean log level ${mean} vs mu ${profile.level.mu}`,
    );
  });

  it('simulates water meters as rising cumulative registers in litres', () => {
    const water = {
      ...profile,
      kind: 'water' as const,
      level: { ...profile.level, mu: Math.log(300), unit: 'L/day' },
    };
    const rs = texts(generateFleet(spec({ profile: water, meters: 2, intervalMinutes: 60 }), 0, 2)).map((t) =>
      JSON.parse(t),
    );
    const m1 = rs.filter((r) => r.meter_id === 'SIMW000001');
    assert.equal(m1.length, 14 * 24);
    assert.ok(
      m1.every(
        (r, i) => r.type === 'cumulative' && r.unit === 'L' && (i === 0 || r.value >= m1[i - 1].value),
      ),
    );
    assert.ok(m1.at(-1).value > m1[0].value);
  });

  it('generates the same readings in worker threads as in one thread', async () => {
    const period = simulatedPeriod({ start: '2013-06-01', days: 2, zone: 'Europe/Paris' });
    const opts = {
      profile,
      meters: 40,
      seed: 3,
      ...period,
      intervalMinutes: 60 as const,
      zone: 'Europe/Paris',
    };
    const one = (await take(simulateSource({ ...opts, threads: 1 }).batches())).map((m) =>
      Buffer.from(m.value).toString(),
    );
    const three = simulateSource({ ...opts, threads: 3 });
    assert.equal(three.total, 40 * 48);
    const many = (await take(three.batches())).map((m) => Buffer.from(m.value).toString());
    assert.equal(many.length, one.length);
    assert.deepEqual([...many].sort(), [...one].sort());
    assert.equal(three.stats()[0].messages, 40 * 48);
  });

  it('ends its threads when the reader stops early (--limit, Ctrl-C), so the process can exit', async () => {
    const source = simulateSource({
      profile,
      meters: 20_000,
      seed: 1,
      ...simulatedPeriod({ days: 30 }),
      intervalMinutes: 30,
      zone: 'UTC',
      threads: 2,
    });
    const ms = await take(source.batches(), 12_000);
    assert.equal(ms.length, 12_000);
    // the test file would never finish if a worker thread were left running
  });
});
