// Builds the Source a `lakestream produce` invocation names: replayed files or a simulated fleet.

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TOPICS } from '../domain/topics.ts';
import { LakestreamError } from '../errors.ts';
import { checkReplayFile } from './check-format.ts';
import { parseGoogleTrace } from './replay/google-trace-source.ts';
import { parseJsonl } from './replay/jsonl.ts';
import { parseLondon } from './replay/london.ts';
import { replaySource } from './replay/replay-source.ts';
import { parseUci } from './replay/uci.ts';
import { parseWater } from './replay/water.ts';
import { loadProfile, type MeterProfile } from './simulate/profile.ts';
import { simulateSource } from './simulate/simulate-source.ts';
import type { Source } from './source.ts';
import { localToUtc } from './time.ts';

export const SOURCE_NAMES = [
  'london-halfhourly',
  'uci-hourly',
  'water',
  'simulate',
  'google-2011',
  'jsonl',
] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

export interface SourceOptions {
  source: SourceName;
  /** input files (replays); a directory is searched for data files */
  files?: string[];
  /** replays: 'time' (default) sorts rows by event time across meters and files; 'file' keeps file order */
  order?: 'time' | 'file';
  /** jsonl: the topic to send to (default meters.readings) */
  topic?: string;
  // simulate
  meters?: number;
  seed?: number;
  /** first local day, "YYYY-MM-DD" (default 2013-01-01, the year the default profile was learned on) */
  start?: string;
  days?: number;
  months?: number;
  profile?: string | MeterProfile;
  intervalMinutes?: 30 | 60;
  zone?: string;
  threads?: number;
  /** where replays spill sorted runs (default the OS temp dir) */
  tmpDir?: string;
}

export const SIMULATE_DEFAULTS = {
  meters: 100,
  seed: 1,
  start: '2013-01-01',
  months: 1,
  zone: 'Europe/London',
} as const;

async function expand(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (s?.isDirectory()) {
      const entries = await readdir(p, { recursive: true });
      out.push(
        ...entries
          .filter((e) => /\.(csv|csv\.gz|jsonl|jsonl\.gz|zip)$/.test(e) && !/schema\.csv$/.test(e))
          .sort()
          .map((e) => join(p, e)),
      );
    } else out.push(p);
  }
  return out;
}

/** The simulated period [start, end) in UTC ms from local --start and --days/--months. */
export function simulatedPeriod(o: { start?: string; days?: number; months?: number; zone?: string }): {
  start: number;
  end: number;
} {
  const zone = o.zone ?? SIMULATE_DEFAULTS.zone;
  const day = o.start ?? SIMULATE_DEFAULTS.start;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new LakestreamError('BAD_ARGUMENT', `--start must be a date YYYY-MM-DD, got "${day}"`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const local = Date.UTC(y, mo, d);
  if (new Date(local).getUTCDate() !== d)
    throw new LakestreamError('BAD_ARGUMENT', `--start ${day} is not a calendar date`);
  const localEnd =
    o.days !== undefined
      ? Date.UTC(y, mo, d + o.days)
      : Date.UTC(y, mo + (o.months ?? SIMULATE_DEFAULTS.months), d);
  return { start: localToUtc(zone, local).utcMs, end: localToUtc(zone, localEnd).utcMs };
}

// The meter datasets replayed from files, each by its own parser.
const METER_PARSERS = {
  'london-halfhourly': parseLondon,
  'uci-hourly': parseUci,
  water: parseWater,
};

export async function openSource(o: SourceOptions): Promise<Source> {
  const files = await expand(o.files ?? []);
  const order = o.order ?? 'time';
  switch (o.source) {
    case 'london-halfhourly':
    case 'uci-hourly':
    case 'water': {
      const parse = METER_PARSERS[o.source];
      return replaySource({
        name: o.source,
        topic: TOPICS.readings,
        paths: files,
        parse,
        check: (f) => checkReplayFile(o.source, f, parse),
        order,
        tmpDir: o.tmpDir,
      });
    }
    case 'jsonl':
      return replaySource({
        name: o.source,
        topic: o.topic ?? TOPICS.readings,
        paths: files,
        parse: parseJsonl,
        order: 'file',
      });
    case 'google-2011':
      return parseGoogleTrace(files, order === 'file' ? 'file' : 'merge');
    case 'simulate': {
      const profile = typeof o.profile === 'object' ? o.profile : await loadProfile(o.profile);
      // meters live where their profile was learned unless told otherwise (water: Europe/Madrid)
      const learnedZone = profile.learnedFrom?.zone;
      const zone =
        o.zone ??
        (typeof learnedZone === 'string' && learnedZone !== 'UTC' ? learnedZone : SIMULATE_DEFAULTS.zone);
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
      } catch {
        throw new LakestreamError('BAD_ARGUMENT', `--zone ${zone} is not an IANA time zone`);
      }
      const { start, end } = simulatedPeriod({ ...o, zone });
      return simulateSource({
        profile,
        meters: o.meters ?? SIMULATE_DEFAULTS.meters,
        seed: o.seed ?? SIMULATE_DEFAULTS.seed,
        start,
        end,
        intervalMinutes: o.intervalMinutes ?? (profile.kind === 'water' ? 60 : 30),
        zone,
        threads: o.threads ?? 1,
      });
    }
    default:
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `unknown source "${String(o.source)}"; use one of ${SOURCE_NAMES.join(', ')}`,
      );
  }
}
