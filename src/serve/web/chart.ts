// uPlot charts with the dashboard's look, resized with their card, and their data published on
// window.__charts[name] so browser tests can compare what is drawn with the lake.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { compact } from './dom.ts';

export interface SeriesSpec {
  label: string;
  /** CSS variable name or color */
  color: string;
  y: (number | null)[];
  style?: 'line' | 'area' | 'bars' | 'step' | 'points';
  dash?: number[];
  width?: number;
  /** draw a dot per value (default: only when there are few) */
  points?: boolean;
}

export interface ChartSpec {
  x: number[];
  series: SeriesSpec[];
  /** x holds unix seconds (true) or plain numbers (false) */
  time: boolean;
  yLabel: string;
  xLabel?: string;
  height?: number;
  /** the visible x range (default: the data's extent); a function is asked at every redraw */
  xRange?: [number, number] | (() => [number, number]);
  /** where x ticks go (e.g. one per partition) */
  xSplits?: () => number[];
  /** value shown in the legend */
  valueFormat?: (v: number) => string;
  xFormat?: (v: number) => string;
  yMin?: number;
}

export interface PublishedChart {
  x: number[];
  series: { label: string; y: (number | null)[] }[];
  /** the visible x range (uPlot's scale) */
  xMin: number | null;
  xMax: number | null;
  updatedAt: number;
  [k: string]: unknown;
}

declare global {
  interface Window {
    __charts: Record<string, PublishedChart>;
  }
}
window.__charts ??= {};

const charts = new Map<string, { plot: uPlot; observer: ResizeObserver }>();

function cssVar(name: string): string {
  return name.startsWith('--')
    ? getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888'
    : name;
}

function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = Number.parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** Draws (or redraws) the chart `name` into `el`; extra fields go to window.__charts[name]. */
export function drawChart(
  name: string,
  el: HTMLElement,
  spec: ChartSpec,
  extra: Record<string, unknown> = {},
): uPlot {
  destroyChart(name);
  el.classList.add('chart');
  el.dataset.chart = name;
  const axisColor = cssVar('--muted');
  const gridColor = cssVar('--grid');
  const fmtV = spec.valueFormat ?? ((v: number) => compact(v));
  const bars = uPlot.paths.bars?.({ size: [0.7, 40], align: 0 });
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  const width = Math.max(300, el.clientWidth || 800);
  const opts: uPlot.Options = {
    width,
    height: spec.height ?? 300,
    padding: [12, 12, 0, 4],
    scales: {
      x: {
        time: spec.time,
        ...(spec.xRange
          ? {
              range: () =>
                typeof spec.xRange === 'function' ? spec.xRange() : (spec.xRange as [number, number]),
            }
          : {}),
      },
      y: { range: (_u, min, max) => [spec.yMin ?? Math.min(0, min), max > 0 ? max * 1.08 : 1] },
    },
    cursor: { drag: { x: true, y: false }, points: { size: 7 } },
    legend: { live: true },
    axes: [
      {
        stroke: axisColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor },
        label: spec.xLabel,
        labelSize: spec.xLabel ? 20 : 0,
        ...(spec.xSplits ? { splits: () => spec.xSplits!() } : {}),
        ...(spec.xFormat ? { values: (_u: uPlot, vals: number[]) => vals.map((v) => spec.xFormat!(v)) } : {}),
      },
      {
        stroke: axisColor,
        grid: { stroke: gridColor, width: 1 },
        ticks: { stroke: gridColor },
        label: spec.yLabel,
        labelSize: 22,
        size: 56,
        values: (_u: uPlot, vals: number[]) => vals.map((v) => compact(v)),
      },
    ],
    series: [
      {
        label: spec.time ? 'time' : (spec.xLabel ?? 'x'),
        ...(spec.xFormat ? { value: (_u: uPlot, v: number) => (v == null ? '–' : spec.xFormat!(v)) } : {}),
      },
      ...spec.series.map((s) => {
        const color = cssVar(s.color);
        const base: uPlot.Series = {
          label: s.label,
          stroke: color,
          width: s.width ?? 2,
          dash: s.dash,
          spanGaps: false,
          points: {
            show: s.style === 'points' || spec.x.length < 40,
            size: s.style === 'points' ? 7 : 5,
            fill: color,
          },
          value: (_u: uPlot, v: number | null) => (v == null ? '–' : fmtV(v)),
        };
        if (s.style === 'area') base.fill = withAlpha(color, 0.16);
        if (s.style === 'bars') {
          base.paths = bars;
          base.fill = withAlpha(color, 0.75);
          base.points = { show: false };
        }
        if (s.style === 'step') base.paths = stepped;
        if (s.style === 'points') base.paths = () => null;
        return base;
      }),
    ],
    hooks: {
      setScale: [
        (u: uPlot, key: string) => {
          if (key === 'x' && window.__charts[name]) {
            window.__charts[name].xMin = u.scales.x.min ?? null;
            window.__charts[name].xMax = u.scales.x.max ?? null;
          }
        },
      ],
    },
  };
  const data: uPlot.AlignedData = [spec.x, ...spec.series.map((s) => s.y as (number | null)[])];
  window.__charts[name] = {
    x: spec.x,
    series: spec.series.map((s) => ({ label: s.label, y: s.y })),
    xMin: null,
    xMax: null,
    updatedAt: Date.now(),
    ...extra,
  };
  const plot = new uPlot(opts, data, el);
  window.__charts[name].xMin = plot.scales.x.min ?? null;
  window.__charts[name].xMax = plot.scales.x.max ?? null;
  el.dataset.points = String(spec.x.length);
  const observer = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w > 0 && Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: spec.height ?? 300 });
  });
  observer.observe(el);
  charts.set(name, { plot, observer });
  return plot;
}

/** Replaces the data of a drawn chart (the live page appends points every second). */
export function updateChart(name: string, x: number[], ys: (number | null)[][]): boolean {
  const c = charts.get(name);
  if (!c || !document.body.contains(c.plot.root)) return false;
  c.plot.setData([x, ...ys]);
  const pub = window.__charts[name];
  if (pub) {
    pub.x = x;
    pub.series = pub.series.map((s, i) => ({ label: s.label, y: ys[i] }));
    pub.updatedAt = Date.now();
    pub.xMin = c.plot.scales.x.min ?? null;
    pub.xMax = c.plot.scales.x.max ?? null;
  }
  return true;
}

export function destroyChart(name: string): void {
  const c = charts.get(name);
  if (!c) return;
  c.observer.disconnect();
  c.plot.destroy();
  charts.delete(name);
}

export function destroyAll(): void {
  for (const name of [...charts.keys()]) destroyChart(name);
}
