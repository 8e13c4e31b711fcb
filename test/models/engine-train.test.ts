import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateTrainLake } from '../../src/bench/train-lake.ts';
import { openEngine } from '../../src/engine/index.ts';
import { Lake } from '../../src/lake/index.ts';
import {
  DAYS_PER_GIB,
  trainAndRegisterOnEngine,
  trainingParts,
  trainOnEngine,
} from '../../src/models/consumption/engine-train.ts';
import { closedMonthsOf } from '../../src/models/consumption/evaluate.ts';
import { FEATURE_NAMES, prepare } from '../../src/models/consumption/features.ts';
import { MAX_K } from '../../src/models/consumption/model.ts';
import { trainingSetCtes } from '../../src/models/consumption/sql-features.ts';
import { datasetFromLake, trainFromLake } from '../../src/models/consumption/train.ts';
import { latestModelVersion } from '../../src/models/registry.ts';

/** |a − b| relative to |b| (absolute below 1e-12). */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe('the consumption trainer on an engine (DuckDB here; test/models/train-spark.cluster.test.ts runs it on Spark)', () => {
  let dir: string;
  let url: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-engine-train-'));
    url = `file:${dir}`;
    // 10 meters over 26 months: previous months, last year's months, holidays, ToU, a meter at zero
    await generateTrainLake(url, { meters: 10, months: 26, firstMonth: '2012-01' });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("the SQL features of every closed meter-month at every as-of day equal prepare()'s", async () => {
    const lake = await Lake.open(url);
    const engine = await openEngine('duckdb', url);
    try {
      const ctes = trainingSetCtes({
        firstMonth: '2012-01',
        lastMonth: '2014-02',
        silver: true,
        maxK: MAX_K,
        engine: 'duckdb',
      });
      const cols = FEATURE_NAMES.map((_, i) => `x${i}`).join(', ');
      const rows = (
        await engine.query(`WITH ${ctes} SELECT meter_id, month, k, ${cols} FROM features`, { maxRows: 1e6 })
      ).rows;
      const sql = new Map(rows.map((r) => [`${r.meter_id} ${r.month} ${r.k}`, r]));
      let compared = 0;
      const seen = { holiday: 0, tou: 0, smly: 0, noPrev: 0 };
      for (const m of closedMonthsOf(await datasetFromLake(lake))) {
        const actual = (m.daily as number[]).reduce((a, b) => a + b, 0);
        for (let k = 1; k < m.daysInMonth && k <= MAX_K; k++) {
          const p = prepare({ ...m, daily: m.daily.slice(0, k) })!;
          const r = sql.get(`${m.meterId} ${m.month} ${k}`);
          if (!(actual > 0)) {
            assert.equal(r, undefined, `${m.meterId} ${m.month}: a month at zero has no example`);
            continue;
          }
          assert.ok(r, `${m.meterId} ${m.month} k=${k} is in the SQL training set`);
          FEATURE_NAMES.forEach((name, i) => {
            assert.ok(
              rel(Number(r[`x${i}`]), p.x[i]) < 1e-12,
              `${m.meterId} ${m.month} k=${k} ${name}: SQL ${r[`x${i}`]}, prepare ${p.x[i]}`,
            );
          });
          compared++;
          if (p.x[8] !== 0) seen.holiday++;
          if (p.x[9] !== 0) seen.tou++;
          if (p.x[5] !== 0) seen.smly++;
          if (p.x[1] !== 0) seen.noPrev++;
        }
      }
      assert.equal(compared, sql.size, 'the SQL has no example prepare() lacks');
      // the lake exercises every branch of the features
      for (const [what, n] of Object.entries(seen)) assert.ok(n > 0, `some examples have ${what}`);
    } finally {
      await engine.close();
      await lake.close();
    }
  });

  test("the model fitted by one aggregation per IRLS step equals the embedded trainer's, and so do its in-sample errors", async () => {
    const lake = await Lake.open(url);
    const engine = await openEngine('duckdb', url);
    try {
      const own = await trainFromLake(lake);
      const onEngine = await trainOnEngine(engine);
      assert.deepEqual(onEngine.model.trainedOn, own.model.trainedOn);
      for (let k = 0; k < MAX_K; k++) {
        assert.equal(onEngine.model.fits[k].n, own.model.fits[k].n);
        onEngine.model.fits[k].coef.forEach((c, j) => {
          assert.ok(rel(c, own.model.fits[k].coef[j]) < 1e-6, `k=${k + 1} coefficient ${j}`);
        });
      }
      assert.equal(onEngine.timing.irlsSeconds.length, 12, 'twelve IRLS steps, one aggregation each');
      // the steps read the training set DuckDB built once and kept (as Spark caches it)
      const cached = await engine.query('SELECT count(*) AS n FROM lakestream_training_examples');
      assert.equal(Number(cached.rows[0].n), onEngine.examples);
      const ownRows = (own.metrics as { inSample: { k: unknown; model: Record<string, number> }[] }).inSample;
      const engineRows = (onEngine.metrics as { inSample: { k: unknown; model: Record<string, number> }[] })
        .inSample;
      assert.deepEqual(
        engineRows.map((r) => r.k),
        ownRows.map((r) => r.k),
      );
      engineRows.forEach((r, i) => {
        assert.equal(r.model.n, ownRows[i].model.n);
        for (const m of ['mape', 'mdape', 'wape'])
          assert.ok(rel(r.model[m], ownRows[i].model[m]) < 1e-9, `k=${r.k} ${m}`);
      });
    } finally {
      await engine.close();
      await lake.close();
    }
  });

  test("built in parts of the meters (as DuckDB does past its memory), the training set and the model are the whole one's", async () => {
    const engine = await openEngine('duckdb', url);
    try {
      const whole = await trainOnEngine(engine, { parts: 1 });
      const inParts = await trainOnEngine(engine, { parts: 3 });
      assert.equal(whole.parts, 1);
      assert.equal(inParts.parts, 3);
      // a part that missed its filter would bring every meter's examples again
      assert.equal(inParts.examples, whole.examples);
      const cached = await engine.query('SELECT count(*) AS n FROM lakestream_training_examples');
      assert.equal(Number(cached.rows[0].n), whole.examples);
      assert.deepEqual(inParts.model.trainedOn, whole.model.trainedOn);
      for (let k = 0; k < MAX_K; k++) {
        assert.equal(inParts.model.fits[k].n, whole.model.fits[k].n);
        // the same rows, summed in another order: DuckDB's parallel sums differ run to run in the last
        // bits, which a small coefficient's IRLS magnifies to ~1e-9 of itself (k=9's 1.3e-6 moved by up
        // to 1.4e-9 over eight runs); a missing or doubled meter moves them by far more than 1e-6
        inParts.model.fits[k].coef.forEach((c, j) => {
          assert.ok(rel(c, whole.model.fits[k].coef[j]) < 1e-6, `k=${k + 1} coefficient ${j}`);
        });
      }
      // each part holds some of the meters (the split is not all in one part)
      const ctes = (index: number) =>
        trainingSetCtes({
          firstMonth: '2012-01',
          lastMonth: '2014-02',
          silver: true,
          maxK: MAX_K,
          engine: 'duckdb',
          part: { index, of: 3 },
        });
      const perPart: number[] = [];
      for (let i = 0; i < 3; i++)
        perPart.push(
          Number(
            (await engine.query(`WITH ${ctes(i)} SELECT count(DISTINCT meter_id) AS n FROM days`)).rows[0].n,
          ),
        );
      assert.equal(
        perPart.reduce((a, b) => a + b, 0),
        10,
        `meters per part ${perPart}`,
      );
      assert.ok(perPart.filter((n) => n > 0).length >= 2, `meters per part ${perPart}`);
    } finally {
      await engine.close();
    }
  });

  test("DuckDB's parts: at most 2 M gold days per GiB of its memory limit", () => {
    const gib = 2 ** 30;
    assert.equal(DAYS_PER_GIB, 2_000_000);
    assert.equal(trainingParts(0, gib), 1);
    assert.equal(trainingParts(2_000_000, gib), 1);
    assert.equal(trainingParts(2_000_001, gib), 2);
    // 100,000 meters × 3 years at 8 GiB: the bench's 7 parts
    assert.equal(trainingParts(103_817_822, 8 * gib), 7);
    assert.equal(trainingParts(31_000_000, 8 * gib), 2);
  });

  test('a registered engine-trained version is the next version of the lake', async () => {
    const lake = await Lake.open(url);
    try {
      const before = (await latestModelVersion(lake.store, 'consumption')) ?? 0;
      const { version } = await trainAndRegisterOnEngine('duckdb', lake);
      assert.equal(version, before + 1);
      assert.equal(await latestModelVersion(lake.store, 'consumption'), version);
    } finally {
      await lake.close();
    }
  });
});
