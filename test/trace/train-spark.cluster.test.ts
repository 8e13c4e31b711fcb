// `lakestream train --model task-gmm --engine spark`: MLlib's GaussianMixture on the cluster's Spark, side
// by side with the own EM on two shards of the trace; Spark loads the model it saved; clear errors.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { mlDelete, mlFetch, mlRead, SparkConnectClient } from '../../src/engine/spark/index.ts';
import { Lake } from '../../src/lake/index.ts';
import { REQUEST_FEATURES, rawFeature, taskClassifier } from '../../src/models/task-gmm/model.ts';
import { SPARK_GMM_MODEL_CLASS } from '../../src/models/task-gmm/spark-train.ts';
import { trainingSetFromLake } from '../../src/models/task-gmm/train.ts';
import { cli, freshEngines, requireData, runCli } from '../helpers/cli.ts';
import { ensureCluster, sparkConnectThreads, type TestCluster } from '../helpers/cluster.ts';

const TRACE = 'cluster-trace/google-2011';
const MACHINES = requireData(`${TRACE}/machine_events_with_header.csv.gz`);

/** The first `n` lines of a task_events shard that pass `keep`, as a shard file of its own. */
async function slice(part: string, n: number, dir: string, keep: (l: string) => boolean = () => true) {
  const src = requireData(`${TRACE}/task_events/part-${part}-of-00500.csv.gz`);
  const input = createReadStream(src).pipe(createGunzip());
  const lines: string[] = [];
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (keep(line)) lines.push(line);
    if (lines.length === n) break;
  }
  input.destroy();
  await mkdir(join(dir, 'task_events'), { recursive: true });
  const file = join(dir, 'task_events', `part-${part}-of-00500.csv`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** A trace lake from a task_events slice and the machine table, through produce and stream. */
async function traceLake(part: string, n: number, keep?: (l: string) => boolean) {
  const e = await freshEngines();
  const file = await slice(part, n, e.dir, keep);
  await cli(['produce', '--source', 'google-2011', '--file', file, '--file', MACHINES, ...e.produceFlags]);
  await cli(['stream', '--workload', 'cluster-trace', '--drain', '--quiet', ...e.flags]);
  return e;
}

/** Every file under a directory, with its size: what "nothing in the lake changed" compares. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (f.isFile()) out.push(join(f.parentPath, f.name));
  return out.sort();
}

const TRAIN_ON_SPARK = ['train', '--model', 'task-gmm', '--engine', 'spark'];
const sparkArgs = (lake: string) => [
  ...TRAIN_ON_SPARK,
  '--k',
  '2-4',
  '--starts',
  '3',
  '--compare',
  '--lake',
  lake,
];

describe('train --model task-gmm --engine spark', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  /** A Spark training run; one that fails or hangs says what Spark Connect's threads were doing. */
  const train = (args: string[]) =>
    cli(args, { timeoutMs: 480_000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await sparkConnectThreads(cluster.dir)}`);
    });
  let shards: Awaited<ReturnType<typeof traceLake>>[];
  let spark: SparkConnectClient;
  /** stderr of each shard's training run (the first test trains shard 0) */
  const runs: string[] = [];

  before(async () => {
    cluster = await ensureCluster({ spark: true, hdfs: true });
    shards = [await traceLake('00001', 4000), await traceLake('00000', 4000)];
    spark = await SparkConnectClient.connect(cluster.sparkConnectUrl);
  });
  after(async () => spark?.close());

  it('registers a version holding model.json for the classifier and a Spark model Spark loads again', async () => {
    const a = shards[0];
    const r = await train(sparkArgs(a.lake));
    runs[0] = r.stderr;
    assert.match(r.stdout, /registered task-gmm v1/);
    // progress: a line per fit as it ends (3 k × 3 seeds), then the BIC curve, every k
    assert.equal(
      r.stderr.match(/^ {2}fit \d\/9: k [2-4], seed [1-3]: log-likelihood /gm)?.length,
      9,
      r.stderr,
    );
    assert.match(r.stderr, /k=2: BIC .*\nk=3: BIC .*\nk=4: BIC/);
    const dir = join(a.dir, 'lake/models/task-gmm/v1');
    const model = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    assert.equal(model.engine, 'spark');
    const k = model.gmm.k;
    assert.ok(k >= 2 && k <= 4);
    assert.equal(model.gmm.weights.length, k);
    assert.ok(Math.abs(model.gmm.weights.reduce((s: number, w: number) => s + w, 0) - 1) < 1e-9);
    assert.equal(model.gmm.covariances[0].length, 3);
    assert.equal(model.bicByK.length, 3);
    assert.ok(model.bicByK.every((b: { bic: number }) => b.bic >= model.bic));
    assert.ok(model.tiers.length > 0, 'placement hints from the machine table');
    // the own trainer's features of the same lake: the same tasks, centres and scales
    const lake = await Lake.open(a.lake);
    const own = await trainingSetFromLake(lake).finally(() => lake.close());
    const usable = own.tasks.filter((t) => REQUEST_FEATURES.every((f) => t[f] !== null));
    assert.equal(model.trainedOn.tasks, usable.length);
    REQUEST_FEATURES.forEach((f, j) => {
      const v = usable.map((t) => rawFeature(t, f) as number);
      const mean = v.reduce((x, y) => x + y, 0) / v.length;
      const sd = Math.sqrt(v.reduce((x, y) => x + (y - mean) ** 2, 0) / v.length);
      assert.ok(Math.abs(model.transform.center[j] - mean) <= 1e-9 * Math.abs(mean), f);
      assert.ok(Math.abs(model.transform.scale[j] - sd) <= 1e-9 * sd, f);
    });
    // the stream's classifier takes it as it is
    const c = taskClassifier(model, 1).classify({
      cpu_request: 0.0125,
      memory_request: 0.0159,
      disk_request: 0.0004,
      priority: 0,
      scheduling_class: 0,
    });
    assert.ok(c.cls >= 0 && c.cls < k && c.probability! > 0);
    // Spark's own writer's layout, and Spark's reader takes it back with the same weights
    const meta = (await readdir(join(dir, 'spark-model/metadata'))).find((f) => /^part-.*\.txt$/.test(f));
    assert.ok(meta, 'Spark wrote its metadata');
    assert.match(await readFile(join(dir, 'spark-model/metadata', meta), 'utf8'), /GaussianMixtureModel/);
    const ref = await mlRead(spark, SPARK_GMM_MODEL_CLASS, `file://${dir}/spark-model`);
    const weights = (await mlFetch(spark, ref, ['weights'])) as number[];
    await mlDelete(spark, [ref]);
    assert.deepEqual(
      [...weights].sort((x, y) => x - y),
      [...model.gmm.weights].sort((x: number, y: number) => x - y),
    );
  });

  // EM finds local optima, and the two start differently (k-means++ here, random in MLlib); both keep
  // the best of three seeds per k. On shard 1 both reach the same optimum (0.47 % apart, measured); on
  // shard 0 Spark's best is a far better optimum than the own EM's (2.36 against 0.94 per task at k=4,
  // measured), so there the check is one-sided: Spark's fit is at least as likely, within 1 %.
  for (const [shard, twoSided] of [
    [0, false],
    [1, true],
  ] as const)
    it(`chooses the same k as the own EM on shard ${shard}, its fit as likely within 1 %`, async (t) => {
      runs[shard] ??= (await train(sparkArgs(shards[shard].lake))).stderr;
      const out = runs[shard];
      for (const line of out.split('\n')) if (/^k(=| chosen)/.test(line)) t.diagnostic(line);
      const m =
        /k chosen: Spark (\d+), own EM (\d+); mean log-likelihood per task at k=(\d+) differs by ([\d.]+) %/.exec(
          out,
        );
      assert.ok(m, out);
      assert.equal(m[1], m[2], out);
      const at = new RegExp(
        `k=${m[3]}: BIC Spark \\S+ own \\S+; mean log-likelihood per task Spark (\\S+) own (\\S+)`,
      ).exec(out);
      assert.ok(at, out);
      const [spark, own] = [Number(at[1]), Number(at[2])];
      assert.ok(spark >= own - 0.01 * Math.abs(own), out);
      if (twoSided) assert.ok(Number(m[4]) < 1, out);
    });

  it("saves Spark's model into the version's folder of an HDFS lake, where Spark loads it", async () => {
    const e = shards[1];
    const dir = `/lakestream-test-${randomUUID().slice(0, 8)}`;
    const lake = `${cluster.webhdfsUrl}${dir}?user=${cluster.hdfsUser}`;
    const webhdfs = (path: string, op: string, method = 'GET') =>
      fetch(`${cluster.namenodeHttp}/webhdfs/v1${path}?op=${op}&user.name=${cluster.hdfsUser}`, { method });
    try {
      // the shard's log again, under another group, into a lake on HDFS
      await cli([
        'stream',
        '--workload',
        'cluster-trace',
        '--drain',
        '--quiet',
        '--group',
        'to-hdfs',
        '--transport',
        e.transport,
        '--lake',
        lake,
      ]);
      const r = await train([...TRAIN_ON_SPARK, '--k', '2', '--starts', '1', '--lake', lake]);
      assert.match(r.stdout, /registered task-gmm v1/);
      const listed = await webhdfs(`${dir}/models/task-gmm/v1/spark-model/metadata`, 'LISTSTATUS');
      assert.equal(listed.status, 200);
      const model = JSON.parse(await (await webhdfs(`${dir}/models/task-gmm/v1/model.json`, 'OPEN')).text());
      const ref = await mlRead(
        spark,
        SPARK_GMM_MODEL_CLASS,
        `${cluster.hdfsUrl}${dir}/models/task-gmm/v1/spark-model`,
      );
      const weights = (await mlFetch(spark, ref, ['weights'])) as number[];
      await mlDelete(spark, [ref]);
      assert.deepEqual(
        [...weights].sort((x, y) => x - y),
        [...model.gmm.weights].sort((x: number, y: number) => x - y),
      );
    } finally {
      await webhdfs(`${dir}`, 'DELETE&recursive=true', 'DELETE');
    }
  });

  it('says so in one line when Spark does not answer, and registers nothing', async () => {
    const a = shards[1];
    const before = await listing(join(a.dir, 'lake'));
    // a port that accepts connections and never answers
    const silent = createServer(() => {});
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await runCli([...TRAIN_ON_SPARK.slice(0, 4), `spark://127.0.0.1:${port}`, '--lake', a.lake]);
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /Spark Connect at .*:\d+ does not answer/);
    } finally {
      silent.close();
    }
    assert.deepEqual(await listing(join(a.dir, 'lake')), before);
  });

  it('names the count when the lake has no SUBMIT events, or too few for k', async () => {
    const none = await traceLake('00001', 40, (l) => l.split(',')[5] !== '0');
    const r = await runCli(sparkArgs(none.lake));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /no SUBMIT events with every feature .* too few to fit k=2 \(needs at least \d+\)/,
    );
    const few = await traceLake('00001', 6, (l) => l.split(',')[5] === '0');
    const f = await runCli(sparkArgs(few.lake));
    assert.notEqual(f.code, 0);
    assert.match(
      f.stderr,
      /only \d+ of 6 SUBMIT events with every feature .* too few to fit k=2 \(needs at least 20\)/,
    );
    assert.equal(existsSync(join(few.dir, 'lake/models')), false);
  });
});
