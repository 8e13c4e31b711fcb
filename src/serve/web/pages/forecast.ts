// Forecast: a month's prediction trajectory day by day against the actual total and the baselines;
// accuracy by as_of_day against the baselines; the latest predictions.

import type { MeterList } from '../../data/catalog.ts';
import type { Accuracy, ForecastMonth, LatestPredictions } from '../../data/forecast.ts';
import { get } from '../api.ts';
import { drawChart } from '../chart.ts';
import { card, clear, errorBox, fmt, h, kpi } from '../dom.ts';
import { sourceNote } from '../source-note.ts';

/** meter '' = let the server choose (the fleet when it has predictions, else the first meter that has some) */
const state = { meter: '', kind: 'electricity', month: '' };

export async function forecastPage(root: HTMLElement): Promise<void> {
  const meters = await get<MeterList>('/api/meters', { limit: 5000 });
  const meterSel = h('select', { id: 'fc-meter', 'aria-label': 'meter' });
  const kindSel = h(
    'select',
    { id: 'fc-kind', 'aria-label': 'kind' },
    h('option', { value: 'electricity' }, 'Electricity'),
    h('option', { value: 'water' }, 'Water'),
  );
  kindSel.value = state.kind;
  const monthSel = h('select', { id: 'fc-month', 'aria-label': 'month' });
  const fillMeters = () => {
    clear(meterSel);
    meterSel.append(
      h('option', { value: 'fleet' }, 'Whole fleet'),
      ...meters.meters.filter((m) => m.kind === state.kind).map((m) => h('option', { value: m.id }, m.id)),
    );
    if (!Array.from(meterSel.options).some((o) => o.value === state.meter)) state.meter = '';
    meterSel.value = state.meter;
  };
  fillMeters();
  const errors = h('div');
  const kpis = h('div', { class: 'kpis' });
  const trainedEl = h('p', { id: 'fc-trained-on', class: 'muted' });
  // which layer the days and the month's total came from: the batch view up to its mark, the stream after
  const sourceEl = h('p', { id: 'fc-source', class: 'muted small' });
  const trajEl = h('div', { id: 'forecast-chart' });
  const accEl = h('div', { id: 'accuracy-chart' });
  const accNote = h('p', { class: 'muted small' });
  const latestBody = h('tbody');
  root.append(
    h(
      'div',
      { class: 'toolbar' },
      h('label', {}, 'Meter ', meterSel),
      h('label', {}, kindSel),
      h('label', {}, 'Month ', monthSel),
    ),
    errors,
    card(
      'Month total: prediction day by day',
      kpis,
      trainedEl,
      trajEl,
      h(
        'p',
        { class: 'muted small' },
        'Each point is the month total predicted after that day closed; the baselines see the same days. The dashed line is the actual total.',
      ),
      sourceEl,
    ),
    h(
      'div',
      { class: 'grid2' },
      card('Accuracy by day of month (MAPE, lower is better)', accEl, accNote),
      card(
        'Latest predictions',
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'grid', id: 'latest-predictions' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['meter', 'month', 'day', 'predicted', 'observed', 'model', 'at'].map((c) =>
                  h('th', {}, c),
                ),
              ),
            ),
            latestBody,
          ),
        ),
      ),
    ),
  );
  meterSel.addEventListener('change', () => {
    state.meter = meterSel.value;
    state.month = '';
    void load();
  });
  kindSel.addEventListener('change', () => {
    state.kind = kindSel.value;
    fillMeters();
    state.month = '';
    void load();
  });
  monthSel.addEventListener('change', () => {
    state.month = monthSel.value;
    void load();
  });

  async function load(): Promise<void> {
    clear(errors);
    const [f, l] = await Promise.allSettled([
      get<ForecastMonth>('/api/forecast', {
        meter: state.meter || undefined,
        kind: state.kind,
        month: state.month || undefined,
      }),
      get<LatestPredictions>('/api/predictions/latest', { limit: 15, kind: state.kind }),
    ]);
    if (f.status === 'fulfilled') renderTrajectory(f.value);
    else errors.append(errorBox(f.reason.message));
    if (l.status === 'fulfilled') renderLatest(l.value);
    // Accuracy of the chosen meter; for the fleet, of the fleet's own predictions, else over every meter.
    const meter = f.status === 'fulfilled' ? f.value.meter : state.meter || 'fleet';
    let scope = meter;
    let a = await get<Accuracy>('/api/forecast/accuracy', { kind: state.kind, scope }).catch(() => undefined);
    if (meter === 'fleet' && !a?.rows.length) {
      scope = 'meters';
      a = await get<Accuracy>('/api/forecast/accuracy', { kind: state.kind, scope }).catch(() => undefined);
    }
    if (a) renderAccuracy(a, scope);
  }

  function renderTrajectory(f: ForecastMonth): void {
    state.month = f.month;
    state.meter = f.meter;
    meterSel.value = f.meter;
    clear(monthSel);
    monthSel.append(...f.months.map((m) => h('option', { value: m }, m)));
    monthSel.value = f.month;
    const days = Array.from({ length: f.daysInMonth }, (_, i) => i + 1);
    const at = (k: number) => f.predictions.find((p) => p.as_of_day === k);
    const base = (k: number) => f.baselines.find((b) => b.as_of_day === k);
    let cum = 0;
    const observed = f.daily.map((v) => {
      if (v === null) return null;
      cum += v;
      return cum;
    });
    const last = f.predictions[f.predictions.length - 1];
    // which data each model was trained on: accuracy is out of sample only for months after its window
    trainedEl.textContent = f.models
      .map((m) =>
        m.version === 0
          ? 'v0: the blend baseline (no training)'
          : `v${m.version} trained on ${m.trained_on ? `${m.trained_on.first_month} … ${m.trained_on.last_month} (${m.trained_on.meter_months} meter-months)` : 'unknown data'}${m.held_out ? `, without ${m.held_out.meters} households: ${m.held_out.why}` : ''}`,
      )
      .join(' · ');
    sourceEl.textContent = `${sourceNote('Days', f.source.daily)} ${sourceNote('Month total', f.source.monthly)}`;
    clear(kpis);
    kpis.append(
      kpi('Actual total', f.actual ? fmt(f.actual.total) : '–', 'kpi-actual', f.unit),
      kpi(`Predicted (day ${last?.as_of_day ?? '–'})`, fmt(last?.predicted_total), 'kpi-predicted', f.unit),
      kpi(
        'Error',
        f.actual && last
          ? `${fmt(((last.predicted_total - f.actual.total) / f.actual.total) * 100, 1)} %`
          : '–',
      ),
      kpi('Model version', last ? `v${last.model_version}` : '–'),
      kpi('Month', f.actual?.closed ? 'closed' : 'open'),
    );
    drawChart(
      'forecast',
      trajEl,
      {
        x: days,
        time: false,
        xLabel: 'day of month',
        yLabel: f.unit || 'total',
        height: 320,
        xRange: [1, f.daysInMonth],
        series: [
          {
            label: 'model',
            color: '--accent',
            y: days.map((k) => at(k)?.predicted_total ?? null),
            width: 2.5,
          },
          { label: 'run-rate', color: '--c3', y: days.map((k) => base(k)?.runrate ?? null), width: 1.5 },
          { label: 'blend', color: '--c4', y: days.map((k) => base(k)?.blend ?? null), width: 1.5 },
          {
            label: 'actual total',
            color: '--c2',
            y: days.map(() => f.actual?.total ?? null),
            dash: [6, 4],
            points: false,
            width: 1.5,
          },
          { label: 'observed so far', color: '--muted', y: observed, style: 'area', width: 1, points: false },
        ],
      },
      { meter: f.meter, month: f.month, kind: f.kind, actual: f.actual?.total ?? null },
    );
  }

  function renderAccuracy(a: Accuracy, scope: string): void {
    const x = a.rows.map((r) => r.as_of_day);
    drawChart(
      'accuracy',
      accEl,
      {
        x,
        time: false,
        xLabel: 'days observed',
        yLabel: 'MAPE %',
        height: 260,
        series: [
          { label: 'model', color: '--accent', y: a.rows.map((r) => r.model), width: 2.5 },
          { label: 'run-rate', color: '--c3', y: a.rows.map((r) => r.runrate), width: 1.5 },
          { label: 'blend', color: '--c4', y: a.rows.map((r) => r.blend), width: 1.5 },
        ],
        valueFormat: (v) => `${fmt(v, 1)} %`,
      },
      { n: a.rows.map((r) => r.n) },
    );
    const n = a.rows.reduce((m, r) => Math.max(m, r.n), 0);
    const who = scope === 'meters' ? 'every meter' : scope === 'fleet' ? 'the fleet total' : scope;
    accNote.textContent = n
      ? `${who}: ${n} closed month(s)${scope === 'meters' ? ' (meter-months)' : ''}; each baseline scored on the same months.`
      : 'No month has closed yet: accuracy appears when the first predicted month ends.';
  }

  function renderLatest(l: LatestPredictions): void {
    clear(latestBody);
    for (const r of l.rows)
      latestBody.append(
        h(
          'tr',
          {},
          h('td', {}, r.meter_id),
          h('td', {}, r.month),
          h('td', { class: 'num' }, r.as_of_day),
          h('td', { class: 'num' }, fmt(r.predicted_total)),
          h('td', { class: 'num' }, fmt(r.observed_to_date)),
          h('td', { class: 'num' }, `v${r.model_version}`),
          h('td', { class: 'muted' }, r.predicted_at.replace('T', ' ').replace('Z', '')),
        ),
      );
    if (l.rows.length === 0)
      latestBody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'no predictions yet')));
  }

  await load();
}
