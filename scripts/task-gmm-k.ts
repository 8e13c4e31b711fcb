// Measurements for issue 15 item 7 (the same k on two shards), not part of the product: k chosen on
// part-00000 and part-00001 task_events for seeds, and the held-out log-likelihood per task on the other
// shard (transform of the training shard, as `model evaluate --model task-gmm`). The EM runs on distinct
// requests weighted by their multiplicity (em.ts `w`): the full-data likelihood on ~100× fewer points.
//   node scripts/task-gmm-k.ts IDEA [kMax=10] [seeds=1,2,3] [starts=4] [shards=0,1]
// IDEA: shipped (tasks, floor 1e-3, BIC) | sheppard (floor step²/12 of the data's own grid) |
//       job (one point per (job, request), BIC's n = jobs) | icl (BIC + 2·classification entropy) |
//       cv (k of the best 5-fold held-out likelihood, folds by job id) | atoms (how concentrated requests are)
//       cv1se (the smallest k within one standard error of the best fold mean); any IDEA-floorX: variance floor X
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fitByBic, type GmmParams, GmmScorer, type Points, totalWeight } from '../src/models/task-gmm/em.ts';

const D = '/work/shared/data/cluster-trace/google-2011/task_events/';
const SHARDS = ['part-00000-of-00500.csv.gz', 'part-00001-of-00500.csv.gz'];
const U = 1e-4;
interface Task {
  job: string;
  r: [number, number, number];
}
function load(f: string): Task[] {
  const out: Task[] = [];
  for (const line of gunzipSync(readFileSync(D + f))
    .toString('utf8')
    .split('\n')) {
    if (!line) continue;
    const v = line.split(',');
    if (v[5] !== '0' || v[9] === '' || v[10] === '' || v[11] === '') continue;
    out.push({ job: v[2], r: [Number(v[9]), Number(v[10]), Number(v[11])] });
  }
  return out;
}
const raw = (v: number) => Math.log1p(Math.max(0, v) / U);
interface Tf {
  center: number[];
  scale: number[];
}
function transformOf(ts: Task[]): Tf {
  const n = ts.length,
    center = [0, 0, 0],
    scale = [0, 0, 0];
  for (const t of ts) for (let j = 0; j < 3; j++) center[j] += raw(t.r[j]) / n;
  for (const t of ts) for (let j = 0; j < 3; j++) scale[j] += (raw(t.r[j]) - center[j]) ** 2 / n;
  return { center, scale: scale.map((s) => Math.sqrt(s) || 1) };
}
/** distinct points with multiplicities; unit 'task' counts tasks, 'job' counts (job, request) pairs */
function points(ts: Task[], tf: Tf, unit: 'task' | 'job' | 'distinct'): Points {
  const m = new Map<string, number>();
  const seen = new Set<string>();
  for (const t of ts) {
    const key = t.r.join(',');
    if (unit === 'job') {
      const jk = `${t.job}|${key}`;
      if (seen.has(jk)) continue;
      seen.add(jk);
    }
    if (unit === 'distinct' && m.has(key)) continue;
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  const n = m.size,
    x = new Float64Array(n * 3),
    w = new Float64Array(n);
  let i = 0;
  for (const [key, c] of m) {
    const r = key.split(',').map(Number);
    for (let j = 0; j < 3; j++) x[i * 3 + j] = (raw(r[j]) - tf.center[j]) / tf.scale[j];
    w[i++] = c;
  }
  return { x, n, d: 3, w };
}
/** quantisation step per feature: the smallest gap between distinct raw values */
function steps(ts: Task[]): number[] {
  return [0, 1, 2].map((j) => {
    const vals = [...new Set(ts.map((t) => t.r[j]))].sort((a, b) => a - b);
    let g = Infinity;
    for (let i = 1; i < vals.length; i++)
      if (vals[i] - vals[i - 1] > 0) g = Math.min(g, vals[i] - vals[i - 1]);
    return g;
  });
}
function entropy(g: GmmParams, p: Points): number {
  // Σ_i w_i Σ_c −r_ic log r_ic
  let e = 0;
  const lp = new Float64Array(g.k);
  for (let i = 0; i < p.n; i++) {
    const xi = p.x.subarray(i * 3, i * 3 + 3);
    // responsibilities via classify is only the max; compute all
    for (let c = 0; c < g.k; c++) {
      const one = { ...g, k: 1, weights: [1], means: [g.means[c]], covariances: [g.covariances[c]] };
      lp[c] = Math.log(g.weights[c]) + new GmmScorer(one).logLikelihood({ x: xi, n: 1, d: 3 });
    }
    const mx = Math.max(...lp);
    let z = 0;
    for (let c = 0; c < g.k; c++) z += Math.exp(lp[c] - mx);
    for (let c = 0; c < g.k; c++) {
      const r = Math.exp(lp[c] - mx) / z;
      if (r > 0) e -= (p.w ? p.w[i] : 1) * r * Math.log(r);
    }
  }
  return e;
}

const idea = process.argv[2] ?? 'shipped';
const kMax = Number(process.argv[3] ?? 10);
const seeds = (process.argv[4] ?? '1,2,3').split(',').map(Number);
const starts = Number(process.argv[5] ?? 4);
const tasks = SHARDS.map(load);
const tfs = tasks.map(transformOf);
for (let s = 0; s < 2; s++)
  console.log(
    `${SHARDS[s]}: ${tasks[s].length} tasks, steps ${steps(tasks[s]).map((v) => v.toExponential(2))}, center ${tfs[s].center.map((v) => v.toFixed(3))} scale ${tfs[s].scale.map((v) => v.toFixed(3))}`,
  );
if (idea === 'atoms') {
  // how concentrated the requests are: distinct requests, exact and in log cells of a relative width
  for (let s = 0; s < 2; s++) {
    const out: string[] = [];
    for (const rel of [0, 0.1, 0.25, 0.5, 1]) {
      const m = new Map<string, number>();
      for (const t of tasks[s]) {
        const key =
          rel === 0 ? t.r.join(',') : t.r.map((x) => Math.floor(raw(x) / Math.log1p(rel))).join(',');
        m.set(key, (m.get(key) ?? 0) + 1);
      }
      const counts = [...m.values()].sort((a, b) => b - a);
      let c = 0;
      let k90 = 0;
      for (const x of counts) {
        c += x;
        k90++;
        if (c >= 0.9 * tasks[s].length) break;
      }
      out.push(
        `cell ${rel === 0 ? 'exact' : `${rel * 100} %`}: ${m.size} distinct, ${k90} cover 90 %, top ${((counts[0] / tasks[s].length) * 100).toFixed(1)} %`,
      );
    }
    console.log(`${SHARDS[s]}: ${new Set(tasks[s].map((t) => t.job)).size} jobs\n  ${out.join('\n  ')}`);
  }
  process.exit(0);
}
const only = (process.argv[6] ?? '0,1').split(',').map(Number);
for (const s of only) {
  const tf = tfs[s];
  const unit = idea.includes('job') ? 'job' : idea.includes('distinct') ? 'distinct' : 'task';
  const p = points(tasks[s], tf, unit);
  // IDEA…-floorX: a variance floor of X (standardised units) instead of the shipped 1e-3
  let reg = Number(/-floor([\d.e-]+)/.exec(idea)?.[1] ?? 1e-3);
  if (idea.includes('sheppard')) {
    // floor: the coarsest grid cell in feature space (at request 0), step² / 12, per feature; one scalar = the max over features
    const st = steps(tasks[s]).map((q, j) => q / U / tf.scale[j]);
    reg = Math.max(...st.map((q) => (q * q) / 12));
  }
  const other = points(tasks[1 - s], tf, 'task');
  const nOther = totalWeight(other);
  for (const seed of seeds) {
    const t0 = performance.now();
    if (idea.startsWith('cv')) {
      const F = 5;
      const fold = (t: Task) => Number(BigInt(t.job) % BigInt(F));
      const score = new Array(kMax + 1).fill(0);
      // per fold, held-out log-likelihood per task at each k (for the one-standard-error rule)
      const perFold: number[][] = [];
      for (let f = 0; f < F; f++) {
        perFold[f] = new Array(kMax + 1).fill(0);
        const tr = tasks[s].filter((t) => fold(t) !== f);
        const te = points(
          tasks[s].filter((t) => fold(t) === f),
          tf,
          'task',
        );
        fitByBic(points(tr, tf, unit), {
          kMin: 1,
          kMax,
          seed,
          starts,
          regCovar: reg,
          onFit: (k, fr) => {
            const ll = new GmmScorer(fr.params).logLikelihood(te);
            score[k] += ll;
            perFold[f][k] = ll / totalWeight(te);
          },
        });
      }
      const byK: GmmParams[] = [];
      fitByBic(p, {
        kMin: 1,
        kMax,
        seed,
        starts,
        regCovar: reg,
        onFit: (k, fr) => {
          byK[k] = fr.params;
        },
      });
      let kb = 1;
      for (let k = 2; k <= kMax; k++) if (score[k] > score[kb]) kb = k;
      if (idea.includes('1se')) {
        // one-standard-error rule (Breiman et al., 1984): the smallest k whose mean fold score is within one
        // standard error (of the best k's fold scores) of the best
        const mean = (k: number) => perFold.reduce((a, r) => a + r[k], 0) / F;
        const m = mean(kb);
        const se = Math.sqrt(perFold.reduce((a, r) => a + (r[kb] - m) ** 2, 0) / (F - 1) / F);
        let k1 = kb;
        for (let k = 1; k <= kb; k++)
          if (mean(k) >= m - se) {
            k1 = k;
            break;
          }
        console.log(`  1-SE: best k ${kb} mean ${m.toFixed(3)} se ${se.toFixed(3)} -> k ${k1}`);
        kb = k1;
      }
      const ho = new GmmScorer(byK[kb]).logLikelihood(other) / nOther;
      const own = new GmmScorer(byK[kb]).logLikelihood(points(tasks[s], tf, 'task')) / tasks[s].length;
      console.log(
        `${idea} shard ${s} seed ${seed}: n=${p.n} floor=${reg.toExponential(2)} k=${kb} train LL/task ${own.toFixed(3)} held-out LL/task on shard ${1 - s} ${ho.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s) | CV LL/task ${score
          .slice(1)
          .map((v, i) => `${i + 1}:${(v / tasks[s].length).toFixed(3)}`)
          .join(' ')}`,
      );
      continue;
    }
    const r = fitByBic(p, { kMin: 1, kMax, seed, starts, regCovar: reg });
    let chosen = r.best;
    let curve = r.byK.map((b) => `${b.k}:${b.bic.toFixed(0)}`).join(' ');
    if (idea.includes('icl')) {
      // refit each k to get params: fitByBic keeps only best; rerun per k through onFit
      const fits: { k: number; icl: number; params: GmmParams; ll: number }[] = [];
      fitByBic(p, {
        kMin: 1,
        kMax,
        seed,
        starts,
        regCovar: reg,
        onFit: (k, f) =>
          fits.push({ k, icl: f.bic + 2 * entropy(f.params, p), params: f.params, ll: f.logLikelihood }),
      });
      const b = fits.reduce((a, c) => (c.icl < a.icl ? c : a));
      chosen = { ...r.best, params: b.params, logLikelihood: b.ll };
      curve = fits.map((f) => `${f.k}:${f.icl.toFixed(0)}`).join(' ');
    }
    const ho = new GmmScorer(chosen.params).logLikelihood(other) / nOther;
    const own = new GmmScorer(chosen.params).logLikelihood(points(tasks[s], tf, 'task')) / tasks[s].length;
    console.log(
      `${idea} shard ${s} seed ${seed}: n=${p.n} N=${totalWeight(p)} floor=${reg.toExponential(2)} k=${chosen.params.k} train LL/task ${own.toFixed(3)} held-out LL/task on shard ${1 - s} ${ho.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s) | ${curve}`,
    );
  }
}
