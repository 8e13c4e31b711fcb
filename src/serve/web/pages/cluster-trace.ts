// Cluster trace: the cluster-trace workload's serving view. Class mix over trace time (closed windows,
// then the speed layer's newest class rows), demand of running tasks against cluster capacity,
// the GMM's clusters over a scatter of requests, and task outcome rates.

import type { ClusterTraceView } from '../../data/cluster-trace.ts';
import { get } from '../api.ts';
import { drawChart } from '../chart.ts';
import { card, fmt, h, kpi } from '../dom.ts';
import { sourceNote } from '../source-note.ts';

const PALETTE = [
  '#2563eb',
  '#059669',
  '#d97706',
  '#9333ea',
  '#db2777',
  '#0891b2',
  '#65a30d',
  '#dc2626',
  '#7c3aed',
  '#ca8a04',
];
const colorOf = (cls: number) => (cls < 0 ? '#98a2b3' : PALETTE[cls % PALETTE.length]);
const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Requests on the log1p(request / unit) scale, with ticks labelled in request units. */
function scatterPlot(el: HTMLElement, view: ClusterTraceView): void {
  const W = 640;
  const H = 360;
  const pad = { l: 56, r: 12, t: 12, b: 40 };
  const { x, y, cls, unit } = view.scatter;
  const ell = view.model?.classes ?? [];
  const xs = [...x, ...ell.flatMap((c) => c.ellipse.map((p) => p[0]))];
  const ys = [...y, ...ell.flatMap((c) => c.ellipse.map((p) => p[1]))];
  const x0 = Math.max(0, Math.min(...xs, 0));
  const x1 = Math.max(...xs, 1);
  const y0 = Math.max(0, Math.min(...ys, 0));
  const y1 = Math.max(...ys, 1);
  const sx = (v: number) => pad.l + ((v - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const sy = (v: number) => H - pad.b - ((v - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    width: '100%',
    role: 'img',
    'aria-label': 'requests by class',
  });
  const axis = (v: number) => unit * Math.expm1(v);
  for (const r of [0.0001, 0.001, 0.01, 0.1, 0.5]) {
    const v = Math.log1p(r / unit);
    if (v >= x0 && v <= x1) {
      root.append(svg('line', { x1: sx(v), x2: sx(v), y1: pad.t, y2: H - pad.b, stroke: 'var(--grid)' }));
      const t = svg('text', {
        x: sx(v),
        y: H - pad.b + 16,
        'text-anchor': 'middle',
        'font-size': 11,
        fill: 'var(--muted)',
      });
      t.textContent = String(r);
      root.append(t);
    }
    if (v >= y0 && v <= y1) {
      root.append(svg('line', { x1: pad.l, x2: W - pad.r, y1: sy(v), y2: sy(v), stroke: 'var(--grid)' }));
      const t = svg('text', {
        x: pad.l - 6,
        y: sy(v) + 4,
        'text-anchor': 'end',
        'font-size': 11,
        fill: 'var(--muted)',
      });
      t.textContent = String(r);
      root.append(t);
    }
  }
  const xl = svg('text', {
    x: (W + pad.l) / 2,
    y: H - 6,
    'text-anchor': 'middle',
    'font-size': 12,
    fill: 'var(--muted)',
  });
  xl.textContent = 'CPU request (fraction of the largest machine, log scale)';
  const yl = svg('text', {
    x: 12,
    y: H / 2,
    'font-size': 12,
    fill: 'var(--muted)',
    transform: `rotate(-90 12 ${H / 2})`,
    'text-anchor': 'middle',
  });
  yl.textContent = 'memory request';
  root.append(xl, yl);
  for (let i = 0; i < x.length; i++)
    root.append(
      svg('circle', {
        cx: sx(x[i]),
        cy: sy(y[i]),
        r: 2.2,
        fill: colorOf(cls[i]),
        'fill-opacity': 0.55,
        class: 'pt',
      }),
    );
  for (const c of ell)
    root.append(
      svg('polygon', {
        points: c.ellipse.map(([a, b]) => `${sx(a).toFixed(1)},${sy(b).toFixed(1)}`).join(' '),
        fill: 'none',
        stroke: colorOf(c.class),
        'stroke-width': 2,
        class: 'gmm-ellipse',
        'data-class': c.class,
      }),
    );
  el.append(root);
  window.__charts['cluster_scatter'] = {
    x,
    series: [{ label: 'memory', y }],
    cls,
    ellipses: ell.length,
    xMin: x0,
    xMax: x1,
    updatedAt: Date.now(),
    requestAt: axis,
  } as never;
}

export async function clusterTracePage(root: HTMLElement): Promise<void> {
  const view = await get<ClusterTraceView>('/api/cluster-trace');
  if (!view.available) {
    // an empty lake is a state, not a failure: told as a note, not drawn as an error
    root.append(
      h(
        'p',
        { class: 'card muted', id: 'cluster-empty', role: 'status' },
        'No cluster-trace tables in this lake yet: replay the trace (lakestream produce --source google-2011 …) and run lakestream stream --workload cluster-trace.',
      ),
    );
    return;
  }
  const failures = view.outcomes.failed.reduce((a, b) => a + b, 0);
  const ended =
    failures +
    view.outcomes.finished.reduce((a, b) => a + b, 0) +
    view.outcomes.killed.reduce((a, b) => a + b, 0) +
    view.outcomes.evicted.reduce((a, b) => a + b, 0);
  root.append(
    h(
      'div',
      { class: 'kpis' },
      kpi('tasks classified', fmt(view.totals.submits, 0), 'cl-submits'),
      kpi('task attempts', fmt(view.totals.lifecycles, 0), 'cl-lifecycles'),
      kpi('still running', fmt(view.totals.open, 0), 'cl-open'),
      kpi('failure rate', ended ? fmt((100 * failures) / ended, 1) : '–', 'cl-failure', '%'),
      kpi(
        'model',
        view.model ? `task-gmm v${view.model.version}, k = ${view.model.k}` : 'none (class -1)',
        'cl-model',
      ),
    ),
  );
  const mixEl = h('div', { id: 'cluster-mix' });
  const demandEl = h('div', { id: 'cluster-demand' });
  const scatterEl = h('div', { id: 'cluster-scatter' });
  const outcomeEl = h('div', { id: 'cluster-outcomes' });
  const classesBody = h('tbody');
  for (const c of view.model?.classes ?? [])
    classesBody.append(
      h(
        'tr',
        {},
        h('td', {}, h('span', { style: `color:${colorOf(c.class)}` }, '●'), ` ${c.class}`),
        h('td', {}, `${fmt(c.weight * 100, 1)} %`),
        h('td', {}, c.placement_hint),
      ),
    );
  root.append(
    card(
      'Class mix over trace time (arrivals per minute)',
      mixEl,
      h(
        'p',
        { class: 'muted small' },
        view.classMix.realtimeFrom === null
          ? 'From the speed layer’s closed minute windows.'
          : `From the speed layer’s closed minute windows; from minute ${view.classMix.realtimeFrom} on, from the class rows written on arrival (windows still open).`,
      ),
    ),
    card(
      'Demand of running tasks against cluster capacity',
      demandEl,
      // which layer the task lifecycles came from: the batch view's closed attempts, the stream's others
      h('p', { class: 'muted small', id: 'cl-source' }, sourceNote('Task lifecycles', view.source)),
    ),
    h(
      'div',
      { class: 'grid2' },
      card('Requests and the GMM’s clusters (2σ ellipses)', scatterEl),
      card(
        'Classes and placement hints',
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'grid', id: 'cluster-classes' },
            h(
              'thead',
              {},
              h('tr', {}, h('th', {}, 'class'), h('th', {}, 'weight'), h('th', {}, 'placement hint')),
            ),
            classesBody,
          ),
        ),
      ),
    ),
    card('Task outcomes per 10 trace minutes', outcomeEl),
  );
  const mx = view.classMix.minutes;
  drawChart('cluster_mix', mixEl, {
    x: mx,
    time: false,
    xLabel: 'trace minute',
    yLabel: 'tasks / min',
    height: 260,
    series: view.classMix.classes.map((c, i) => ({
      label: c < 0 ? 'unclassified' : `class ${c}`,
      color: colorOf(c),
      y: view.classMix.arrivals[i],
    })),
  });
  drawChart('cluster_demand', demandEl, {
    x: view.demand.minutes,
    time: false,
    xLabel: 'trace minute',
    yLabel: 'normalised units',
    height: 260,
    series: [
      { label: 'CPU requested', color: '--accent', y: view.demand.cpu },
      { label: 'CPU capacity', color: '--accent', y: view.demand.cpuCapacity, dash: [6, 4] },
      { label: 'memory requested', color: '--c2', y: view.demand.memory },
      { label: 'memory capacity', color: '--c2', y: view.demand.memoryCapacity, dash: [6, 4] },
    ],
  });
  scatterPlot(scatterEl, view);
  drawChart('cluster_outcomes', outcomeEl, {
    x: view.outcomes.minutes,
    time: false,
    xLabel: 'trace minute',
    yLabel: 'tasks',
    height: 240,
    series: [
      { label: 'finished', color: '--c2', y: view.outcomes.finished },
      { label: 'failed', color: '--danger', y: view.outcomes.failed },
      { label: 'killed', color: '--c3', y: view.outcomes.killed },
      { label: 'evicted', color: '--c4', y: view.outcomes.evicted },
    ],
  });
}
