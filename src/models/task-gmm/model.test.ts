import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GmmScorer, mulberry32 } from './em.ts';
import { featureVector, type TaskRequest, taskClassifier } from './model.ts';
import { trainTaskGmmModel } from './train.ts';

/** Tasks around two request shapes, some without a disk request. */
function tasks(n: number): TaskRequest[] {
  const rand = mulberry32(3);
  return Array.from({ length: n }, (_, i) => ({
    cpu_request: (i % 2 ? 0.0625 : 0.0125) * (0.8 + 0.4 * rand()),
    memory_request: (i % 2 ? 0.03 : 0.01) * (0.8 + 0.4 * rand()),
    disk_request: i % 10 === 9 ? null : 0.0003 * (0.5 + rand()),
    priority: 0,
    scheduling_class: 0,
  }));
}

describe('task GMM feature path', () => {
  const set = { tasks: tasks(400), tiers: [], source: 'test' };
  const { model } = trainTaskGmmModel(set, { kMin: 1, kMax: 3, starts: 1 });
  const complete = set.tasks.filter((t) => t.disk_request !== null);

  it('the model’s transform standardises its own training tasks to mean 0 and sd 1', () => {
    const x = new Float64Array(3);
    const sum = [0, 0, 0];
    const sq = [0, 0, 0];
    for (const t of complete) {
      assert.equal(featureVector(model.features, model.transform, t, x), false);
      for (let j = 0; j < 3; j++) {
        sum[j] += x[j];
        sq[j] += x[j] * x[j];
      }
    }
    for (let j = 0; j < 3; j++) {
      assert.ok(Math.abs(sum[j] / complete.length) < 1e-9, `mean of feature ${j}`);
      assert.ok(Math.abs(sq[j] / complete.length - 1) < 1e-9, `variance of feature ${j}`);
    }
  });

  it('the stream’s classifier scores the point the feature path gives, a missing request at the training mean', () => {
    const classifier = taskClassifier(model, 1);
    const scorer = new GmmScorer(model.gmm);
    const x = new Float64Array(3);
    for (const t of set.tasks.slice(0, 40)) {
      const missing = featureVector(model.features, model.transform, t, x);
      const c = classifier.classify(t);
      assert.equal(c.imputed, missing);
      assert.equal(c.imputed, t.disk_request === null);
      if (missing) assert.equal(x[2], 0);
      assert.deepEqual({ cls: c.cls, probability: c.probability }, scorer.classify(x));
    }
  });
});
