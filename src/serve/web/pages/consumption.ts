// Consumption: one meter, a group or the fleet; 1 month / 1 year / 3 years ending on a picked day;
// the server picks hourly / daily / weekly / monthly to fit the range (or the user does).

import type { GroupList, MeterList } from '../../data/catalog.ts';
import type { ConsumptionSeries } from '../../data/consumption.ts';
import { get } from '../api.ts';
import { drawChart } from '../chart.ts';
import { card, clear, errorBox, fmt, h, kpi } from '../dom.ts';
import { sourceNote } from '../source-note.ts';

export const RANGES = {
  '1m': { label: '1 month', months: 1 },
  '1y': { label: '1 year', months: 12 },
  '3y': { label: '3 years', months: 36 },
} as const;
type RangeKey = keyof typeof RANGES;

/** The first day of a range of `months` months ending on `to` (inclusive). */
export function rangeStart(to: string, months: number): string {
  const d = new Date(`${to}T00:00:00Z`);
  const start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, d.getUTCDate() + 1));
  return start.toISOString().slice(0, 10);
}

const GRANULARITY_LABELS = {
  auto: 'Auto granularity',
  hour: 'Hourly',
  day: 'Daily',
  week: 'Weekly',
  month: 'Monthly',
};

const state = {
  kind: 'electricity',
  target: 'fleet', // 'fleet' | 'meter:ID' | 'group:tariff:Std'
  range: '1y' as RangeKey,
  to: '' as string,
  granularity: 'auto',
};

export async function consumptionPage(root: HTMLElement, params: URLSearchParams): Promise<void> {
  if (params.get('meter')) state.target = `meter:${params.get('meter')}`;
  if (params.get('range') && params.get('range')! in RANGES) state.range = params.get('range') as RangeKey;
  const [meters, groups] = await Promise.all([
    get<MeterList>('/api/meters', { limit: 5000 }),
    get<GroupList>('/api/groups'),
  ]);

  const targetSel = h('select', { id: 'target', 'aria-label': 'what to show' });
  const kindSel = h(
    'select',
    { id: 'kind', 'aria-label': 'kind' },
    h('option', { value: 'electricity' }, 'Electricity (kWh)'),
    h('option', { value: 'water' }, 'Water (L)'),
  );
  kindSel.value = state.kind;
  const fillTargets = () => {
    clear(targetSel);
    targetSel.append(h('option', { value: 'fleet' }, 'Whole fleet'));
    const gs = groups.groups.filter((g) => g.kind === state.kind);
    if (gs.length)
      targetSel.append(
        h(
          'optgroup',
          { label: 'Groups' },
          ...gs.map((g) =>
            h(
              'option',
              { value: `group:${g.id}` },
              `${g.id.replace('acorn:', 'ACORN ').replace('tariff:', 'Tariff ')} (${g.meters} meters)`,
            ),
          ),
        ),
      );
    const ms = meters.meters.filter((m) => m.kind === state.kind);
    if (ms.length)
      targetSel.append(
        h('optgroup', { label: 'Meters' }, ...ms.map((m) => h('option', { value: `meter:${m.id}` }, m.id))),
      );
    if (!Array.from(targetSel.options).some((o) => o.value === state.target)) state.target = 'fleet';
    targetSel.value = state.target;
  };
  fillTargets();

  const rangeButtons = (Object.keys(RANGES) as RangeKey[]).map((k) =>
    h(
      'button',
      {
        type: 'button',
        class: 'seg',
        'data-range': k,
        'aria-pressed': String(k === state.range),
        onclick: () => {
          state.range = k;
          void load();
        },
      },
      RANGES[k].label,
    ),
  );
  const datePicker = h('input', { type: 'date', id: 'to', 'aria-label': 'range ends on', value: state.to });
  const granSel = h(
    'select',
    { id: 'granularity', 'aria-label': 'granularity' },
    ...Object.entries(GRANULARITY_LABELS).map(([g, label]) => h('option', { value: g }, label)),
  );
  granSel.value = state.granularity;

  const chartEl = h('div', { id: 'consumption-chart' });
  const kpis = h('div', { class: 'kpis' });
  const note = h('p', { class: 'muted small' });
  // which layer the series came from: the batch view up to its mark, the stream after it
  const sourceLine = h('p', { class: 'muted small', id: 'consumption-source' });
  const errors = h('div');
  root.append(
    h(
      'div',
      { class: 'toolbar' },
      h('label', {}, 'Show ', targetSel),
      h('label', {}, kindSel),
      h('div', { class: 'segmented', role: 'group', 'aria-label': 'range' }, ...rangeButtons),
      h('label', {}, 'ending ', datePicker),
      h('label', {}, granSel),
    ),
    errors,
    card('Consumption', kpis, chartEl, note, sourceLine),
  );

  targetSel.addEventListener('change', () => {
    state.target = targetSel.value;
    void load();
  });
  kindSel.addEventListener('change', () => {
    state.kind = kindSel.value;
    fillTargets();
    state.to = '';
    void load();
  });
  datePicker.addEventListener('change', () => {
    state.to = datePicker.value;
    void load();
  });
  granSel.addEventListener('change', () => {
    state.granularity = granSel.value;
    void load();
  });

  /** The target's last day with data, from the meter list (no extra request). */
  function lastDayOf(t: string): string {
    const ms = meters.meters.filter(
      (m) =>
        m.kind === state.kind &&
        (t === 'fleet' ||
          t === `meter:${m.id}` ||
          t === `group:tariff:${m.tariff}` ||
          t === `group:acorn:${m.acorn_group}`),
    );
    return (
      ms
        .map((m) => m.last_day)
        .sort()
        .at(-1) ?? ''
    );
  }

  let seq = 0;
  async function load(): Promise<void> {
    const mine = ++seq;
    for (const b of rangeButtons) b.setAttribute('aria-pressed', String(b.dataset.range === state.range));
    clear(errors);
    const target: Record<string, string> = {};
    if (state.target === 'fleet') target.fleet = '';
    else if (state.target.startsWith('meter:')) target.meter = state.target.slice(6);
    else target.group = state.target.slice(6);
    try {
      // The range ends on the picked day, or on the last day with data.
      let to = state.to || lastDayOf(state.target);
      if (!to) {
        const probe = await get<ConsumptionSeries>('/api/consumption', {
          ...target,
          kind: state.kind,
          granularity: 'month',
        });
        to = probe.bounds.last;
      }
      const from = rangeStart(to, RANGES[state.range].months);
      const s = await get<ConsumptionSeries>('/api/consumption', {
        ...target,
        kind: state.kind,
        from,
        to,
        granularity: state.granularity,
      });
      if (mine !== seq) return;
      datePicker.value = to;
      datePicker.min = s.bounds.first;
      datePicker.max = s.bounds.last;
      render(s);
    } catch (e) {
      if (mine === seq) errors.append(errorBox((e as Error).message));
    }
  }

  function render(s: ConsumptionSeries): void {
    const total = s.y.reduce((a, b) => a + b, 0);
    const incomplete = s.complete.filter((c) => !c).length;
    clear(kpis);
    kpis.append(
      kpi('Total', fmt(total), 'kpi-total', s.unit),
      kpi(`Mean per ${s.granularity}`, fmt(s.y.length ? total / s.y.length : null), undefined, s.unit),
      kpi('Peak', fmt(s.y.length ? Math.max(...s.y) : null), undefined, s.unit),
      kpi('Periods', String(s.y.length), 'kpi-points'),
    );
    const fromS = Date.parse(`${s.from}T00:00:00Z`) / 1000;
    const toS = Date.parse(`${s.to}T00:00:00Z`) / 1000 + 86_400;
    drawChart(
      'consumption',
      chartEl,
      {
        x: s.x,
        series: [
          {
            label: `${s.target.label} (${s.unit})`,
            color: '--accent',
            y: s.y,
            style: s.granularity === 'week' || s.granularity === 'month' ? 'bars' : 'area',
            width: s.granularity === 'hour' ? 1 : 2,
          },
        ],
        time: true,
        yLabel: `${s.unit} per ${s.granularity}`,
        height: 340,
        xRange: [fromS, toS],
      },
      {
        from: s.from,
        to: s.to,
        granularity: s.granularity,
        unit: s.unit,
        target: s.target.id,
        kind: s.kind,
        range: state.range,
      },
    );
    chartEl.dataset.from = s.from;
    chartEl.dataset.to = s.to;
    chartEl.dataset.granularity = s.granularity;
    sourceLine.textContent = sourceNote(
      `${GRANULARITY_LABELS[s.granularity as keyof typeof GRANULARITY_LABELS]} totals`,
      s.source,
    );
    note.textContent = `${s.target.label}, ${s.kind}, ${s.from} – ${s.to}, ${GRANULARITY_LABELS[s.granularity as keyof typeof GRANULARITY_LABELS].toLowerCase()} totals${incomplete ? ` · ${incomplete} period(s) with missing readings` : ''} · data ${s.bounds.first} – ${s.bounds.last}. Drag across the chart to zoom, double-click to reset.`;
  }

  await load();
}
