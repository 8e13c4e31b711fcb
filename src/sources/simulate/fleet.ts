// Generates a simulated fleet's readings as encoded JSON bytes in batches, time-major (every meter's
// reading for an interval, then the next interval), deterministic per (seed, meter number).

import { type MeterKind, UNIT_OF_KIND } from '../../domain/meters/reading.ts';
import { isoWithOffset, offsetMinutes } from '../time.ts';
import { next, normal, seedStreams } from './prng.ts';
import type { MeterProfile } from './profile.ts';

export interface FleetSpec {
  profile: MeterProfile;
  /** meters in the whole fleet (ids SIM000001 … SIM<meters>) */
  meters: number;
  seed: number;
  /** first interval start, UTC ms */
  start: number;
  /** end (exclusive), UTC ms */
  end: number;
  intervalMinutes: 30 | 60;
  /** IANA zone of the meters' local time (their days, hours, weekdays) */
  zone: string;
}

/** A batch: concatenated JSON texts (ASCII), each message's end offset, meter number and event time. */
export interface FleetBatch {
  bytes: Uint8Array;
  ends: Uint32Array;
  /** 1-based meter numbers (the key is meterId(number)); numbers cross threads cheaper than strings */
  meters: Uint32Array;
  times: Float64Array;
}

/** SIM000001 … for electricity; water meters are SIMW000001 … so both fleets can share a lake. */
export function meterId(n: number, meters: number, kind: MeterKind = 'electricity'): string {
  return (kind === 'water' ? 'SIMW' : 'SIM') + String(n).padStart(Math.max(6, String(meters).length), '0');
}

export function intervalCount(spec: FleetSpec): number {
  return Math.max(0, Math.ceil((spec.end - spec.start) / (spec.intervalMinutes * 60_000)));
}

const DAY = 86_400_000;

/** Season factor on a day of the year: linear between mid-month values, so months join smoothly. */
function seasonAt(season: number[], local: Date): number {
  const m = local.getUTCMonth();
  const d = local.getUTCDate();
  const days = new Date(Date.UTC(local.getUTCFullYear(), m + 1, 0)).getUTCDate();
  const x = (d - 0.5) / days - 0.5; // -0.5 … 0.5 around mid-month
  const other = x < 0 ? season[(m + 11) % 12] : season[(m + 1) % 12];
  const w = Math.abs(x);
  return season[m] * (1 - w) + other * w;
}

/**
 * Yields batches of about `batchSize` readings for meters first … first+count-1 (1-based numbers
 * first+1 …). Meter i's values depend only on (seed, i), never on how the fleet is sliced.
 */
export function* generateFleet(
  spec: FleetSpec,
  first: number,
  count: number,
  batchSize = 5000,
): Generator<FleetBatch> {
  const { profile, zone } = spec;
  const streams = seedStreams(spec.seed, first, count);
  const level = new Float64Array(count);
  const dayFactor = new Float64Array(count);
  const register = profile.kind === 'water' ? new Float64Array(count) : undefined;
  const hours = spec.intervalMinutes / 60;
  const { sigma, daySigma } = profile.noise;
  const cumulative = profile.kind === 'water';
  const unit = UNIT_OF_KIND[profile.kind];
  const prefix: string[] = [];
  for (let i = 0; i < count; i++) {
    level[i] = Math.exp(profile.level.mu + profile.level.sigma * normal(streams, i));
    if (register) register[i] = Math.floor(next(streams, i) * 500_000); // a register that has run a while
    prefix.push(
      `{"v":1,"meter_id":"${meterId(first + i + 1, spec.meters, profile.kind)}","kind":"${profile.kind}","ts":"`,
    );
  }
  const step = spec.intervalMinutes * 60_000;
  const n = intervalCount(spec);
  let lastDay = Number.NaN;
  let text = '';
  let ends: number[] = [];
  let bmeters: number[] = [];
  let times: number[] = [];
  const flush = (): FleetBatch => {
    const bytes = Buffer.from(text, 'latin1'); // every character is ASCII
    const b = {
      bytes,
      ends: Uint32Array.from(ends),
      meters: Uint32Array.from(bmeters),
      times: Float64Array.from(times),
    };
    text = '';
    ends = [];
    bmeters = [];
    times = [];
    return b;
  };
  for (let k = 0; k < n; k++) {
    const t = spec.start + k * step;
    const off = offsetMinutes(zone, t);
    const local = new Date(t + off * 60_000);
    const day = Math.floor((t + off * 60_000) / DAY);
    if (day !== lastDay) {
      for (let i = 0; i < count; i++)
        dayFactor[i] = Math.exp(daySigma * normal(streams, i) - (daySigma * daySigma) / 2);
      lastDay = day;
    }
    const base =
      profile.shape[local.getUTCDay()][local.getUTCHours()] * seasonAt(profile.season, local) * (hours / 24);
    const mid = `${isoWithOffset(t, off)}","value":`;
    const suffix = `,"unit":"${unit}","type":"${cumulative ? 'cumulative' : 'interval'}","seq":${k},"tz":"${zone}"}`;
    const bias = (sigma * sigma) / 2;
    for (let i = 0; i < count; i++) {
      const v = level[i] * base * dayFactor[i] * Math.exp(sigma * normal(streams, i) - bias);
      let value: number;
      if (register) {
        register[i] += v;
        value = Math.round(register[i]);
      } else value = Math.round(v * 1000) / 1000;
      text += prefix[i] + mid + value + suffix;
      ends.push(text.length);
      bmeters.push(first + i + 1);
      times.push(t);
      if (ends.length >= batchSize) yield flush();
    }
  }
  if (ends.length > 0) yield flush();
}
