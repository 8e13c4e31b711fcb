// Held-out fit of a registered task GMM: the mean log-likelihood per task of SUBMITs it was not trained
// on (another shard), next to the same measure on its training tasks. Higher is better; the gap says
// how much of the fit does not carry over.

import { GmmScorer, type Points } from './em.ts';
import { featureVector, rawFeature, type TaskGmmModel } from './model.ts';
import type { TrainingSet } from './train.ts';

export interface TaskGmmEvaluation {
  model_version: number;
  k: number;
  data: string;
  /** SUBMITs with every feature the model uses, scored */
  tasks: number;
  /** SUBMITs left out for a missing feature */
  tasks_with_missing_features: number;
  heldout_log_likelihood_per_task: number;
  training_log_likelihood_per_task: number;
  /** per class: the share of the held-out tasks it is the most probable class of, against its weight */
  classes: { class: number; weight: number; share: number }[];
}

/** Scores `model` on the tasks of `set` in the model's own standardised feature space. */
export function evaluateTaskGmm(model: TaskGmmModel, version: number, set: TrainingSet): TaskGmmEvaluation {
  const d = model.features.length;
  const rows = set.tasks.filter((t) => model.features.every((f) => rawFeature(t, f) !== null));
  const n = rows.length;
  const x = new Float64Array(n * d);
  rows.forEach((t, i) => {
    featureVector(model.features, model.transform, t, x.subarray(i * d, (i + 1) * d));
  });
  const scorer = new GmmScorer(model.gmm);
  const points: Points = { x, n, d };
  const counts = new Array<number>(model.gmm.k).fill(0);
  for (let i = 0; i < n; i++) counts[scorer.classify(x.subarray(i * d, (i + 1) * d)).cls]++;
  return {
    model_version: version,
    k: model.gmm.k,
    data: set.source,
    tasks: n,
    tasks_with_missing_features: set.tasks.length - n,
    heldout_log_likelihood_per_task: n > 0 ? scorer.logLikelihood(points) / n : Number.NaN,
    training_log_likelihood_per_task: model.logLikelihood / model.trainedOn.tasks,
    classes: counts.map((c, i) => ({ class: i, weight: model.gmm.weights[i], share: n > 0 ? c / n : 0 })),
  };
}
