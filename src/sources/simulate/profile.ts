// The meter profile the simulator draws from (JSON, version 1), and its checked loading.
//
// A meter i has a daily level L_i ~ lognormal(mu, sigma) (kWh/day or L/day). Its consumption in an
// interval starting at local time t is
//   L_i × shape[weekday(t)][hour(t)] × season(t) × (interval hours / 24) × D_i(day) × exp(σ·z − σ²/2)
// where shape (24 × 7, weekday 0 = Sunday) and season (12 months, interpolated between mid-months)
// each average 1, D_i(day) = exp(σ_day·z − σ_day²/2) is the meter's day-to-day variation, and z are
// standard normal draws.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { MeterKind } from '../../domain/meters/reading.ts';
import { LakestreamError } from '../../errors.ts';

export interface MeterProfile {
  version: 1;
  name: string;
  description?: string;
  attribution?: string;
  kind: MeterKind;
  level: { distribution: 'lognormal'; mu: number; sigma: number; unit: string };
  /** [weekday 0 = Sunday … 6][local hour 0 … 23], mean 1 */
  shape: number[][];
  /** [month 0 = January … 11], mean 1 */
  season: number[];
  noise: { sigma: number; daySigma: number };
  learnedFrom?: Record<string, unknown>;
}

export const DEFAULT_PROFILE_PATH = fileURLToPath(new URL('./default-profile.json', import.meta.url));

/** Profiles shipped with lakestream, by name: --profile london (the default) or --profile water. */
export const SHIPPED_PROFILES: Record<string, string> = {
  default: DEFAULT_PROFILE_PATH,
  london: DEFAULT_PROFILE_PATH,
  water: fileURLToPath(new URL('./water-profile.json', import.meta.url)),
};

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Checks a parsed profile; returns what is wrong, or undefined when it is usable. */
export function profileProblem(p: unknown): string | undefined {
  const o = p as MeterProfile;
  if (typeof o !== 'object' || o === null) return 'not a JSON object';
  if (o.version !== 1) return `version ${JSON.stringify(o.version)} is not 1`;
  if (o.kind !== 'electricity' && o.kind !== 'water')
    return `kind ${JSON.stringify(o.kind)} is not electricity or water`;
  if (
    o.level?.distribution !== 'lognormal' ||
    !finite(o.level.mu) ||
    !finite(o.level.sigma) ||
    o.level.sigma < 0
  )
    return 'level must be {"distribution":"lognormal","mu":number,"sigma":number ≥ 0}';
  if (
    !Array.isArray(o.shape) ||
    o.shape.length !== 7 ||
    o.shape.some((d) => !Array.isArray(d) || d.length !== 24 || d.some((x) => !finite(x) || x < 0))
  )
    return 'shape must be 7 weekdays × 24 hours of numbers ≥ 0';
  if (!Array.isArray(o.season) || o.season.length !== 12 || o.season.some((x) => !finite(x) || x < 0))
    return 'season must be 12 numbers ≥ 0';
  if (
    !o.noise ||
    !finite(o.noise.sigma) ||
    !finite(o.noise.daySigma) ||
    o.noise.sigma < 0 ||
    o.noise.daySigma < 0
  )
    return 'noise must be {"sigma":number ≥ 0,"daySigma":number ≥ 0}';
  return undefined;
}

/** Loads a profile file or a shipped profile by name (default: learned from London data). */
export async function loadProfile(pathOrName: string = DEFAULT_PROFILE_PATH): Promise<MeterProfile> {
  const path = SHIPPED_PROFILES[pathOrName] ?? pathOrName;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new LakestreamError('NOT_FOUND', `cannot read profile ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new LakestreamError('BAD_INPUT', `profile ${path} is not JSON: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const problem = profileProblem(p);
  if (problem) throw new LakestreamError('BAD_INPUT', `profile ${path}: ${problem}`);
  return p as MeterProfile;
}
