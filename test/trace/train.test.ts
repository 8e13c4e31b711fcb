// `lakestream train --model task-gmm`: from trace files, deterministic for a seed, and a clear error
// when the lake has no trace to train on.

import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { cli, freshEngines, requireData, runCli } from '../helpers/cli.ts';

describe('train --model task-gmm', () => {
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let slice: string;

  before(async () => {
    engines = await freshEngines();
    const src = requireData('cluster-trace/google-2011/task_events/part-00001-of-00500.csv.gz');
    const lines: string[] = [];
    const input = createReadStream(src).pipe(createGunzip());
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      lines.push(line);
      if (lines.length === 20_000) break;
    }
    input.destroy();
    await mkdir(join(engines.dir, 'task_events'));
    slice = join(engines.dir, 'task_events', 'slice.csv');
    await writeFile(slice, `${lines.join('\n')}\n`);
  });

  it('fits the same model twice for the same seed and registers each as a new version', async () => {
    const args = ['train', '--model', 'task-gmm', '--k', '2-4', '--covariance', 'diag', '--seed', '7'];
    const a = await cli([...args, '--data', slice, '--lake', engines.lake]);
    const b = await cli([...args, '--data', slice, '--lake', engines.lake]);
    assert.match(a.stdout, /registered task-gmm v1/);
    assert.match(b.stdout, /registered task-gmm v2/);
    assert.match(a.stderr, /k=2: BIC .*\nk=3: BIC .*\nk=4: BIC/);
    const dir = join(engines.dir, 'lake/models/task-gmm');
    const v1 = JSON.parse(await readFile(join(dir, 'v1/model.json'), 'utf8'));
    const v2 = JSON.parse(await readFile(join(dir, 'v2/model.json'), 'utf8'));
    assert.deepEqual(v1, v2);
    assert.equal(v1.gmm.covariance, 'diag');
    assert.equal(v1.seed, 7);
    assert.equal((await readFile(join(dir, 'LATEST'), 'utf8')).trim(), '2');
  });

  it('prints the BIC curve and keeps it in metrics.json, the likelihood never falling as k grows', async () => {
    const r = await cli([
      'train',
      '--model',
      'task-gmm',
      '--k',
      '1-6',
      '--starts',
      '2',
      '--data',
      slice,
      '--lake',
      engines.lake,
    ]);
    const v = /v(\d+)/.exec(r.stdout)![1];
    assert.match(r.stderr, /BIC by k: 1:-?\d+ {2}2:-?\d+ {2}3:-?\d+ {2}4:-?\d+ {2}5:-?\d+ {2}6:-?\d+/);
    const metrics = JSON.parse(
      await readFile(join(engines.dir, `lake/models/task-gmm/v${v}/metrics.json`), 'utf8'),
    );
    const curve = metrics.bicByK as { k: number; bic: number; logLikelihood: number; starts: number[] }[];
    assert.deepEqual(
      curve.map((b) => b.k),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(metrics.k, curve.reduce((a, b) => (b.bic < a.bic ? b : a)).k, 'k is the lowest BIC');
    for (const b of curve) assert.ok(b.starts.length >= 2 && b.logLikelihood >= Math.max(...b.starts));
    for (let i = 1; i < curve.length; i++)
      assert.ok(
        curve[i].logLikelihood >= curve[i - 1].logLikelihood - 1e-9 * Math.abs(curve[i - 1].logLikelihood),
        curve.map((b) => b.logLikelihood).join(', '),
      );
  });

  it('reports the held-out log-likelihood per task on another shard', async () => {
    await cli([
      'train',
      '--model',
      'task-gmm',
      '--k',
      '3',
      '--starts',
      '1',
      '--data',
      slice,
      '--lake',
      engines.lake,
    ]);
    const shard = requireData('cluster-trace/google-2011/task_events/part-00000-of-00500.csv.gz');
    const r = await cli([
      'model',
      'evaluate',
      '--model',
      'task-gmm',
      '--data',
      shard,
      '--json',
      '--lake',
      engines.lake,
    ]);
    const e = JSON.parse(r.stdout);
    assert.equal(e.k, 3);
    assert.ok(e.tasks > 100_000, `${e.tasks} SUBMITs scored`);
    assert.ok(Number.isFinite(e.heldout_log_likelihood_per_task));
    assert.ok(Number.isFinite(e.training_log_likelihood_per_task));
    assert.ok(Math.abs(e.classes.reduce((a: number, c: { share: number }) => a + c.share, 0) - 1) < 1e-9);
  });

  it('uses priority and scheduling class as features when asked', async () => {
    const r = await cli([
      'train',
      '--model',
      'task-gmm',
      '--k',
      '2',
      '--features',
      'priority,scheduling_class',
      '--data',
      slice,
      '--lake',
      engines.lake,
    ]);
    const v = /v(\d+)/.exec(r.stdout)![1];
    const m = JSON.parse(await readFile(join(engines.dir, `lake/models/task-gmm/v${v}/model.json`), 'utf8'));
    assert.deepEqual(m.features, [
      'cpu_request',
      'memory_request',
      'disk_request',
      'priority',
      'scheduling_class',
    ]);
    assert.equal(m.gmm.means[0].length, 5);
  });

  it('says what to do when the lake holds no trace, and refuses a bad --covariance', async () => {
    const empty = await freshEngines();
    const r = await runCli(['train', '--model', 'task-gmm', '--lake', empty.lake]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no cluster-trace\/bronze\/task_events table .*replay the trace first/);
    const bad = await runCli([
      'train',
      '--model',
      'task-gmm',
      '--covariance',
      'spherical',
      '--lake',
      empty.lake,
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--covariance must be full or diag, got "spherical"/);
  });
});
