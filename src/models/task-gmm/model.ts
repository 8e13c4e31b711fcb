// The task-gmm model as registered (model.json): feature transform, mixture parameters, classes
// with their placement hints; and the classifier the speed layer applies to each SUBMIT.

import { LakestreamError } from '../../errors.ts';
import type { CovarianceType, GmmParams } from './em.ts';
import { GmmScorer } from './em.ts';

export const TASK_GMM_MODEL_NAME = 'task-gmm';

/** Features the model may use; the three requests always, priority and scheduling class as configured. */
export const REQUEST_FEATURES = ['cpu_request', 'memory_request', 'disk_request'] as const;
export const OPTIONAL_FEATURES = ['priority', 'scheduling_class'] as const;
export type Feature = (typeof REQUEST_FEATURES)[number] | (typeof OPTIONAL_FEATURES)[number];

/**
 * Requests are fractions of the largest machine (1e-5 … 1): log1p(v / REQUEST_UNIT) spreads the
 * small ones apart and keeps 0 at 0. Every feature is then standardised (center, scale).
 */
export const REQUEST_UNIT = 1e-4;

export interface TaskRequest {
  cpu_request: number | null;
  memory_request: number | null;
  disk_request: number | null;
  priority: number | null;
  scheduling_class: number | null;
}

export interface CapacityTier {
  cpus: number;
  memory: number;
  machines: number;
}

export interface TaskGmmModel {
  kind: 'task-gmm';
  features: Feature[];
  transform: { unit: number; center: number[]; scale: number[] };
  gmm: GmmParams;
  logLikelihood: number;
  bic: number;
  bicByK: { k: number; bic: number; logLikelihood: number; iterations: number }[];
  seed: number;
  trainedOn: { tasks: number; source: string };
  tiers: CapacityTier[];
  classes: {
    class: number;
    weight: number;
    /** the component mean back in request units */
    typical: { cpu: number; memory: number; disk: number };
    placement_hint: string;
  }[];
}

const isRequest = (f: Feature) => (REQUEST_FEATURES as readonly string[]).includes(f);

/** The raw (unstandardised) value of one feature, or null when the task does not give it. */
export function rawFeature(t: TaskRequest, f: Feature): number | null {
  const v = t[f];
  if (v === null || v === undefined) return null;
  return isRequest(f) ? Math.log1p(Math.max(0, v) / REQUEST_UNIT) : v;
}

/**
 * A task's standardised point into `out` (a missing feature takes the training mean, 0); true when
 * one was missing. The one feature path of training, `model evaluate` and the stream's classifier.
 */
export function featureVector(
  features: readonly Feature[],
  transform: { center: number[]; scale: number[] },
  t: TaskRequest,
  out: Float64Array,
): boolean {
  let missing = false;
  for (let j = 0; j < features.length; j++) {
    const v = rawFeature(t, features[j]);
    if (v === null) missing = true;
    out[j] = v === null ? 0 : (v - transform.center[j]) / transform.scale[j];
  }
  return missing;
}

/** Back from the log1p scale to request units. */
export function requestOf(logValue: number): number {
  return Math.expm1(logValue) * REQUEST_UNIT;
}

/** The smallest tier whose machines hold the request (largest tier when none does); "any" without tiers. */
export function placementHint(tiers: CapacityTier[], cpu: number, memory: number): string {
  if (tiers.length === 0) return 'any';
  const sorted = [...tiers].sort((a, b) => a.cpus - b.cpus || a.memory - b.memory);
  const fit = sorted.find((t) => t.cpus >= cpu && t.memory >= memory) ?? sorted[sorted.length - 1];
  return `cpu ${fit.cpus} / mem ${fit.memory} (${fit.machines} machines)`;
}

export interface Classification {
  cls: number;
  probability: number | null;
  imputed: boolean;
  hint: string | null;
}

export interface TaskClassifier {
  version: number | null;
  classify(t: TaskRequest): Classification;
}

/** Before any model is registered every SUBMIT is class -1 with no probability (documented choice). */
export const UNCLASSIFIED: TaskClassifier = {
  version: null,
  classify: () => ({ cls: -1, probability: null, imputed: false, hint: null }),
};

/** A classifier for a registered model: missing features take the training mean (flagged imputed). */
export function taskClassifier(model: TaskGmmModel, version: number): TaskClassifier {
  if (model?.kind !== 'task-gmm' || !model.gmm || !Array.isArray(model.features))
    throw new LakestreamError('CORRUPT_TABLE', `task-gmm v${version}: model.json is not a task-gmm model`);
  const scorer = new GmmScorer(model.gmm);
  const x = new Float64Array(model.features.length);
  return {
    version,
    classify(t) {
      const imputed = featureVector(model.features, model.transform, t, x);
      const { cls, probability } = scorer.classify(x);
      return { cls, probability, imputed, hint: model.classes[cls]?.placement_hint ?? null };
    },
  };
}

export type { CovarianceType };
