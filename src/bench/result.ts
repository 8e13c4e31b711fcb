// The result every evaluation scenario (baseline, stress, resilience) writes, and report.ts renders.

import type { BenchEvent, Sample } from './sampler.ts';

/** The result every evaluation scenario writes; `summary` holds its headline figures. */
export interface BenchResult {
  scenario: string;
  started_at: string;
  short: boolean;
  transport: string;
  lake: string;
  seconds: number;
  /** headline figures, shown first in every report */
  summary: Record<string, string | number | boolean | null>;
  /** per fault (resilience) or per step (stress): a row each */
  table?: Record<string, string | number | boolean | null>[];
  /** a short verdict: passed/failed, the bottleneck … */
  verdict: string;
  ok: boolean;
  series: Sample[];
  events: BenchEvent[];
  /** where the results were written (set by saveResult's caller) */
  dir?: string;
}

/** The fields every scenario's result opens with: what ran, when, on what, for how long. */
export function resultHead(
  scenario: string,
  started: Date,
  short: boolean,
  urls: { transportUrl: string; lakeUrl: string },
  seconds: number,
): Pick<BenchResult, 'scenario' | 'started_at' | 'short' | 'transport' | 'lake' | 'seconds'> {
  return {
    scenario,
    started_at: started.toISOString(),
    short,
    transport: urls.transportUrl,
    lake: urls.lakeUrl,
    seconds: Number(seconds.toFixed(1)),
  };
}
