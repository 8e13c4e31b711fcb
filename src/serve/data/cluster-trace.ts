// GET /api/cluster-trace: the serving layer of the cluster-trace workload. Running demand and the
// totals come from the task lifecycles: the batch view's (cluster-trace/batch/task_lifecycles) for the
// attempts it closed and the stream's silver for the others (src/serve/data/batch-view.ts; `source` says
// which); the class mix from the real-time view (the speed layer's gold class windows, and for the
// minutes no window has closed yet, the class rows written on arrival); and the task GMM's clusters for
// the scatter of requests.

import { TRACE_LAKE_TABLES as T } from '../../domain/cluster-trace/tables.ts';
import { loadModelJson } from '../../models/registry.ts';
import { TASK_GMM_MODEL_NAME, type TaskGmmModel } from '../../models/task-gmm/model.ts';
import type { LakeReader } from '../lake-reader.ts';
import { num, numOrNull, viewName } from '../lake-reader.ts';
import * as v from '../validate.ts';
import { mergedRelation, type ServedFrom, servedFrom } from './batch-view.ts';
import { dialectOf } from './dialect.ts';

const MIN = 60_000_000; // µs per trace minute
const UNIT = 1e-4; // requests are drawn on log1p(request / UNIT), the GMM's scale

const V = {
  classes: viewName(T.taskClasses.path),
  windows: viewName(T.classWindows.path),
  capacity: viewName(T.machineCapacity.path),
};

export interface ClusterTraceView {
  available: boolean;
  model: {
    version: number;
    k: number;
    bic: number;
    classes: { class: number; weight: number; placement_hint: string; ellipse: [number, number][] }[];
  } | null;
  /** arrivals per class per minute; minutes from realtimeFrom on come from the class rows (windows still open) */
  classMix: { minutes: number[]; classes: number[]; arrivals: number[][]; realtimeFrom: number | null };
  /** CPU and memory requested by running tasks, and the cluster's capacity, per minute */
  demand: {
    minutes: number[];
    cpu: number[];
    memory: number[];
    cpuCapacity: number[];
    memoryCapacity: number[];
  };
  /** a sample of classified requests on the log1p(request / 1e-4) scale */
  scatter: { x: number[]; y: number[]; cls: number[]; unit: number };
  /** terminal events per 10 trace minutes */
  outcomes: {
    minutes: number[];
    finished: number[];
    failed: number[];
    killed: number[];
    evicted: number[];
    failureRate: (number | null)[];
  };
  totals: { submits: number; lifecycles: number; open: number };
  /** where the task lifecycles (demand, totals) were read: the batch view's closed attempts and the stream's others */
  source: ServedFrom;
}

const EMPTY: ClusterTraceView = {
  available: false,
  model: null,
  classMix: { minutes: [], classes: [], arrivals: [], realtimeFrom: null },
  demand: { minutes: [], cpu: [], memory: [], cpuCapacity: [], memoryCapacity: [] },
  scatter: { x: [], y: [], cls: [], unit: UNIT },
  outcomes: { minutes: [], finished: [], failed: [], killed: [], evicted: [], failureRate: [] },
  totals: { submits: 0, lifecycles: 0, open: 0 },
  source: { tables: 'stream', stream_table: T.lifecycles.path, why: 'no task lifecycles yet' },
};

/** The 2-sigma ellipse of a class in the (cpu, memory) plane, as a polygon on the log1p scale. */
function ellipse(model: TaskGmmModel, c: number): [number, number][] {
  const { center, scale } = model.transform;
  const m = model.gmm.means[c];
  const s = model.gmm.covariances[c];
  const a = s[0][0] * scale[0] ** 2;
  const b = s[0][1] * scale[0] * scale[1];
  const d = s[1][1] * scale[1] ** 2;
  // eigenvalues and the angle of the major axis of [[a, b], [b, d]]
  const tr = (a + d) / 2;
  const det = Math.sqrt(((a - d) / 2) ** 2 + b * b);
  const l1 = tr + det;
  const l2 = Math.max(tr - det, 0);
  const theta = 0.5 * Math.atan2(2 * b, a - d);
  const cx = m[0] * scale[0] + center[0];
  const cy = m[1] * scale[1] + center[1];
  const pts: [number, number][] = [];
  for (let i = 0; i <= 48; i++) {
    const t = (2 * Math.PI * i) / 48;
    const u = 2 * Math.sqrt(l1) * Math.cos(t);
    const w = 2 * Math.sqrt(l2) * Math.sin(t);
    pts.push([
      cx + u * Math.cos(theta) - w * Math.sin(theta),
      cy + u * Math.sin(theta) + w * Math.cos(theta),
    ]);
  }
  return pts;
}

export async function clusterTraceView(lake: LakeReader, q: URLSearchParams): Promise<ClusterTraceView> {
  v.onlyParams(q, ['points']);
  const points = v.int(q, 'points', 1500, 0, 5000);
  const have = new Set((await lake.tables()).map((t) => t.path));
  if (!have.has(T.taskClasses.path) || !have.has(T.lifecycles.path)) return EMPTY;
  const rows = async (sql: string) => (await lake.query(sql, { maxRows: 1_000_000 })).rows;
  const sqlOf = dialectOf(lake);
  const source = await servedFrom(lake, 'lifecycles');
  const lifecycles = mergedRelation('lifecycles', source);

  const loaded = await loadModelJson(lake.store, TASK_GMM_MODEL_NAME).catch(() => undefined);
  const model = loaded
    ? (() => {
        const m = loaded.model as TaskGmmModel;
        return {
          version: loaded.version,
          k: m.gmm.k,
          bic: m.bic,
          classes: m.classes.map((c) => ({
            class: c.class,
            weight: c.weight,
            placement_hint: c.placement_hint,
            ellipse: ellipse(m, c.class),
          })),
        };
      })()
    : null;

  // class mix: closed windows (real-time view, minute by minute) + class rows newer than any window
  const windows = have.has(T.classWindows.path)
    ? await rows(
        `SELECT minute, class, sum(arrivals) AS n FROM ${V.windows} GROUP BY ALL HAVING sum(arrivals) > 0 ORDER BY minute, class`,
      )
    : [];
  const lastWindow = windows.length ? Math.max(...windows.map((r) => num(r.minute))) : null;
  const tail = await rows(
    `SELECT ${sqlOf.div('submit_time', String(MIN))} AS minute, class, count(*) AS n FROM ${V.classes}
     ${lastWindow === null ? '' : `WHERE ${sqlOf.div('submit_time', String(MIN))} > ${lastWindow}`} GROUP BY ALL ORDER BY minute, class`,
  );
  const mixRows = [...windows, ...tail];
  const minutes = [...new Set(mixRows.map((r) => num(r.minute)))].sort((x, y) => x - y);
  const classes = [...new Set(mixRows.map((r) => num(r.class)))].sort((x, y) => x - y);
  const mi = new Map(minutes.map((m, i) => [m, i]));
  const arrivals = classes.map(() => new Array<number>(minutes.length).fill(0));
  for (const r of mixRows) arrivals[classes.indexOf(num(r.class))][mi.get(num(r.minute))!] += num(r.n);

  // demand (the merged lifecycles): requests of scheduled tasks, +at schedule −at end, summed over time
  const demandRows = await rows(`
    WITH ev AS (
      SELECT schedule_time AS t, coalesce(cpu_request, 0) AS c, coalesce(memory_request, 0) AS m FROM ${lifecycles} WHERE schedule_time IS NOT NULL
      UNION ALL
      SELECT end_time, -coalesce(cpu_request, 0), -coalesce(memory_request, 0) FROM ${lifecycles} WHERE schedule_time IS NOT NULL AND end_time IS NOT NULL),
    per AS (SELECT ${sqlOf.div('t', String(MIN))} AS minute, sum(c) AS c, sum(m) AS m FROM ev GROUP BY 1)
    SELECT minute, sum(c) OVER (ORDER BY minute) AS cpu, sum(m) OVER (ORDER BY minute) AS mem FROM per ORDER BY minute`);
  const dMinutes = demandRows.map((r) => num(r.minute));
  let cpuCapacity: number[] = dMinutes.map(() => 0);
  let memoryCapacity: number[] = dMinutes.map(() => 0);
  if (have.has(T.machineCapacity.path) && dMinutes.length) {
    const cap = await rows(`
      WITH per AS (SELECT ${sqlOf.div('time', String(MIN))} AS minute, sum(delta_cpus) AS c, sum(delta_memory) AS m FROM ${V.capacity} GROUP BY 1)
      SELECT minute, sum(c) OVER (ORDER BY minute) AS cpu, sum(m) OVER (ORDER BY minute) AS mem FROM per ORDER BY minute`);
    // capacity at each demand minute: the latest change at or before it
    let j = -1;
    cpuCapacity = [];
    memoryCapacity = [];
    for (const m of dMinutes) {
      while (j + 1 < cap.length && num(cap[j + 1].minute) <= m) j++;
      cpuCapacity.push(j >= 0 ? num(cap[j].cpu) : 0);
      memoryCapacity.push(j >= 0 ? num(cap[j].mem) : 0);
    }
  }

  const sample =
    points === 0
      ? []
      : await rows(`SELECT cpu_request, memory_request, class FROM ${V.classes}
          WHERE cpu_request IS NOT NULL AND memory_request IS NOT NULL
          ${sqlOf.sample(points, 42)}`);

  const out = have.has(T.classWindows.path)
    ? await rows(`SELECT ${sqlOf.div('minute', '10')} * 10 AS minute, sum(finished) AS f, sum(failed) AS x, sum(killed) AS k, sum(evicted) AS e
        FROM ${V.windows} GROUP BY 1 ORDER BY 1`)
    : [];
  const [tot] = await rows(`SELECT (SELECT count(*) FROM ${V.classes}) AS submits,
    (SELECT count(*) FROM ${lifecycles}) AS lifecycles,
    (SELECT count(*) FROM ${lifecycles} WHERE outcome = 'open') AS open`);

  return {
    available: true,
    model,
    classMix: { minutes, classes, arrivals, realtimeFrom: tail.length ? num(tail[0].minute) : null },
    demand: {
      minutes: dMinutes,
      cpu: demandRows.map((r) => num(r.cpu)),
      memory: demandRows.map((r) => num(r.mem)),
      cpuCapacity,
      memoryCapacity,
    },
    scatter: {
      x: sample.map((r) => Math.log1p(num(r.cpu_request) / UNIT)),
      y: sample.map((r) => Math.log1p(num(r.memory_request) / UNIT)),
      cls: sample.map((r) => num(r.class)),
      unit: UNIT,
    },
    outcomes: {
      minutes: out.map((r) => num(r.minute)),
      finished: out.map((r) => num(r.f)),
      failed: out.map((r) => num(r.x)),
      killed: out.map((r) => num(r.k)),
      evicted: out.map((r) => num(r.e)),
      failureRate: out.map((r) => {
        const all = num(r.f) + num(r.x) + num(r.k) + num(r.e);
        return all > 0 ? numOrNull(num(r.x) / all) : null;
      }),
    },
    totals: { submits: num(tot.submits), lifecycles: num(tot.lifecycles), open: num(tot.open) },
    source,
  };
}
