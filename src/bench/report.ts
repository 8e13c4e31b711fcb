// Renders a bench result as a self-contained HTML page (inline SVG charts: throughput, latency
// percentiles, lag, CPU and memory, with kill and recovery markers) and as a markdown summary.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './processes.ts';
import { log } from './progress.ts';
import type { BenchResult } from './result.ts';
import { stamp } from './run.ts';
import type { BenchEvent, Sample } from './sampler.ts';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];
const MARK_COLORS: Record<BenchEvent['kind'], string> = {
  kill: '#dc2626',
  restart: '#ea580c',
  recovered: '#16a34a',
  step: '#6b7280',
  note: '#6b7280',
};

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

interface Line {
  name: string;
  points: [number, number | null][];
}

/** One line chart as inline SVG: axes with a few ticks, one path per line, a vertical marker per event. */
export function svgChart(title: string, unit: string, lines: Line[], events: BenchEvent[]): string {
  const W = 900;
  const H = 240;
  const L = 60;
  const R = 130;
  const T = 24;
  const B = 30;
  const xs = lines.flatMap((l) => l.points.map((p) => p[0]));
  const ys = lines.flatMap((l) => l.points.map((p) => p[1]).filter((y): y is number => y !== null));
  const xMax = Math.max(1, ...xs, ...events.map((e) => e.t));
  const yMax = Math.max(1, ...ys) * 1.08;
  const x = (v: number) => L + ((W - L - R) * v) / xMax;
  const y = (v: number) => H - B - ((H - T - B) * v) / yMax;
  const parts: string[] = [
    `<text x="${L}" y="16" class="title">${esc(title)}${unit ? ` (${esc(unit)})` : ''}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" class="axis"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" class="axis"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" class="grid"/>`);
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
    const tv = (xMax * i) / 4;
    parts.push(`<text x="${x(tv)}" y="${H - B + 16}" text-anchor="middle">${fmt(Math.round(tv))} s</text>`);
  }
  for (const e of events) {
    const c = MARK_COLORS[e.kind];
    parts.push(
      `<line x1="${x(e.t)}" y1="${T}" x2="${x(e.t)}" y2="${H - B}" stroke="${c}" stroke-dasharray="4 3"><title>${esc(`${e.kind}: ${e.label} at ${e.t} s`)}</title></line>`,
    );
    if (e.kind === 'kill' || e.kind === 'step')
      parts.push(`<text x="${x(e.t) + 3}" y="${T + 10}" fill="${c}" class="mark">${esc(e.label)}</text>`);
  }
  lines.forEach((l, i) => {
    let d = '';
    let pen = false;
    for (const [px, py] of l.points) {
      if (py === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`;
      pen = true;
    }
    const c = COLORS[i % COLORS.length];
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.6"/>`);
    parts.push(
      `<rect x="${W - R + 10}" y="${T + 16 * i}" width="10" height="10" fill="${c}"/><text x="${W - R + 24}" y="${T + 9 + 16 * i}">${esc(l.name)}</text>`,
    );
  });
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}

function series(s: Sample[], f: (x: Sample) => number | null): [number, number | null][] {
  return s.map((x) => [x.t, f(x)]);
}

type ProcessFigure = 'cpu' | 'rss_mib' | 'open_files' | 'heap_mib';

function procNames(s: Sample[], key: ProcessFigure): string[] {
  return [...new Set(s.flatMap((x) => Object.keys(x[key] ?? {})))].sort();
}

/** A line per process of one per-process figure. */
function processChart(
  title: string,
  unit: string,
  s: Sample[],
  key: ProcessFigure,
  ev: BenchEvent[],
): string {
  return svgChart(
    title,
    unit,
    procNames(s, key).map((n) => ({ name: n, points: series(s, (x) => x[key]?.[n] ?? null) })),
    ev,
  );
}

function htmlTable(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return `<table><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${cols.map((c) => `<td>${esc(String(r[c] ?? ''))}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

export function charts(r: BenchResult): string[] {
  const s = r.series;
  const ev = r.events;
  return [
    svgChart(
      'Throughput',
      'readings/s',
      [
        { name: 'in (produced)', points: series(s, (x) => x.in_rate) },
        { name: 'committed', points: series(s, (x) => x.committed_rate) },
      ],
      ev,
    ),
    svgChart(
      'End-to-end latency',
      'ms',
      [
        { name: 'p50', points: series(s, (x) => x.p50) },
        { name: 'p95', points: series(s, (x) => x.p95) },
        { name: 'p99', points: series(s, (x) => x.p99) },
      ],
      ev,
    ),
    svgChart('Consumer lag', 'readings', [{ name: 'lag', points: series(s, (x) => x.lag) }], ev),
    processChart('CPU per process', '% of one core', s, 'cpu', ev),
    processChart('Memory per process', 'RSS MiB', s, 'rss_mib', ev),
    // sampled since the soak scenario (issue 16): older results have none
    ...(s.some((x) => x.open_files)
      ? [processChart('Open files per process', 'file descriptors', s, 'open_files', ev)]
      : []),
    // the soak's JVM live heap (jvm-heap.ts): a reading every few minutes, drawn through those samples
    ...(s.some((x) => x.heap_mib)
      ? [
          processChart(
            'Live heap per JVM (after a full collection)',
            'MiB',
            s.filter((x) => x.heap_mib),
            'heap_mib',
            ev,
          ),
        ]
      : []),
  ];
}

export function renderHtml(r: BenchResult): string {
  const summary = Object.entries(r.summary)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lakestream bench ${esc(r.scenario)} — ${esc(r.started_at)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px auto;max-width:960px;color:#111}
h1{font-size:22px;margin:0 0 4px} .meta{color:#555;margin-bottom:12px}
.verdict{padding:8px 12px;border-radius:6px;margin:12px 0;font-weight:600}
.ok{background:#dcfce7;color:#14532d} .bad{background:#fee2e2;color:#7f1d1d}
table{border-collapse:collapse;margin:8px 0 16px} th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f5f5f5} svg{display:block;margin:8px 0 18px;background:#fff}
svg text{font:11px system-ui,sans-serif;fill:#333} svg .title{font-size:13px;font-weight:600}
svg .axis{stroke:#888} svg .grid{stroke:#eee} svg .mark{font-size:10px}
</style></head><body>
<h1>lakestream bench ${esc(r.scenario)}${r.short ? ' (short)' : ''}</h1>
<div class="meta">started ${esc(r.started_at)}, ${r.seconds} s · transport ${esc(r.transport)} · lake ${esc(r.lake)}</div>
<div class="verdict ${r.ok ? 'ok' : 'bad'}">${esc(r.verdict)}</div>
<table>${summary}</table>
${htmlTable(r.table ?? [])}
${charts(r).join('\n')}
<h2>Events</h2>
${htmlTable(r.events.map((e) => ({ 't (s)': e.t, kind: e.kind, event: e.label })))}
</body></html>
`;
}

function mdTable(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cols.map((c) => String(r[c] ?? '')).join(' | ')} |`),
  ].join('\n');
}

export function renderMarkdown(r: BenchResult): string {
  return [
    `# lakestream bench ${r.scenario}${r.short ? ' (short)' : ''}`,
    '',
    `Started ${r.started_at}, ${r.seconds} s; transport \`${r.transport}\`, lake \`${r.lake}\`.`,
    '',
    `**${r.ok ? 'OK' : 'FAILED'}:** ${r.verdict}`,
    '',
    mdTable(Object.entries(r.summary).map(([k, v]) => ({ figure: k, value: v }))),
    '',
    mdTable(r.table ?? []),
    '',
  ].join('\n');
}

/** Writes result.json, report.html and summary.md under bench/results/<stamp>-<scenario>/. */
/** The end of a scenario on engines of its own: saves its report, removes the run, prints the JSON when asked. */
export async function finishRun(
  result: BenchResult,
  engines: { cleanup(): Promise<void> },
  json: boolean | undefined,
): Promise<BenchResult> {
  result.dir = await saveResult(result);
  await engines.cleanup();
  if (json) console.log(JSON.stringify(result));
  return result;
}

/** Where a run's report goes (bench/results/<start>-<scenario>); a run may put files there before. */
export function resultDir(started: Date, scenario: string): string {
  return join(ROOT, 'bench', 'results', `${stamp(started)}-${scenario}`);
}

export async function saveResult(result: BenchResult, dir?: string): Promise<string> {
  const out = dir ?? resultDir(new Date(result.started_at), result.scenario);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(out, 'report.html'), renderHtml(result));
  await writeFile(join(out, 'summary.md'), renderMarkdown(result));
  log(`report: ${join(out, 'report.html')} (result.json, summary.md beside it)`);
  return out;
}
