// Pipeline (live): server-sent events every second — rates in and committed, lag per partition,
// end-to-end latency, quarantine counts with the latest reasons, the model version in use.

import type { PipelineSnapshot } from '../../data/pipeline.ts';
import { drawChart, updateChart } from '../chart.ts';
import { card, clear, fmt, h, kpi } from '../dom.ts';

const WINDOW_S = 300;

export function pipelinePage(root: HTMLElement): () => void {
  const status = h('span', { class: 'pill', id: 'live-status' }, 'connecting…');
  const kpis = h('div', { class: 'kpis', id: 'pipeline-kpis' });
  const retrainEl = h('p', { id: 'retrain-status', class: 'muted' });
  const ratesEl = h('div', { id: 'rates-chart' });
  const lagEl = h('div', { id: 'lag-chart' });
  const lagNote = h('p', { class: 'muted small' });
  const reasons = h('tbody');
  const latest = h('ul', { class: 'reasons', id: 'quarantine-latest' });
  const workers = h('tbody');
  const tables = h('tbody');
  root.append(
    h(
      'div',
      { class: 'toolbar' },
      h('span', {}, 'Live pipeline '),
      status,
      h('span', { class: 'muted small', id: 'live-updates', 'data-updates': '0' }, ''),
    ),
    kpis,
    retrainEl,
    h(
      'div',
      { class: 'grid2' },
      card(
        'Readings per second',
        ratesEl,
        h(
          'p',
          { class: 'muted small' },
          'In: messages appended to the topic. Committed: offsets the stream group committed after the lake commit.',
        ),
      ),
      card('Consumer lag per partition', lagEl, lagNote),
    ),
    h(
      'div',
      { class: 'grid2' },
      card(
        'Quarantine',
        h(
          'table',
          { class: 'grid' },
          h('thead', {}, h('tr', {}, h('th', {}, 'reason'), h('th', {}, 'count'))),
          reasons,
        ),
        h('h3', {}, 'Latest'),
        latest,
      ),
      card(
        'Workers',
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'grid' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['worker', 'partitions', 'read', 'accepted', 'quarantined', 'dupes', 'state'].map((c) =>
                  h('th', {}, c),
                ),
              ),
            ),
            workers,
          ),
        ),
        h('h3', {}, 'Tables'),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'grid' },
            h(
              'thead',
              {},
              h('tr', {}, h('th', {}, 'table'), h('th', {}, 'version'), h('th', {}, 'last commit')),
            ),
            tables,
          ),
        ),
      ),
    ),
  );

  const t: number[] = [];
  const rin: (number | null)[] = [];
  const rcommit: (number | null)[] = [];
  let updates = 0;
  let partitions: number[] = [];
  const nowS = () => (t.length ? t[t.length - 1] : Date.now() / 1000);
  drawChart('pipeline_rates', ratesEl, {
    x: [],
    time: true,
    yLabel: 'readings/s',
    height: 240,
    xRange: () => [nowS() - WINDOW_S, nowS()],
    series: [
      { label: 'in', color: '--accent', y: [] },
      { label: 'committed', color: '--c2', y: [] },
    ],
  });
  drawChart('pipeline_lag', lagEl, {
    x: [],
    time: false,
    xLabel: 'partition',
    yLabel: 'messages',
    height: 240,
    xRange: () => [-0.6, Math.max(1, partitions.length) - 0.4],
    xSplits: () => partitions,
    series: [{ label: 'lag', color: '--c3', y: [], style: 'bars' }],
  });

  const source = new EventSource('/api/pipeline/stream');
  source.addEventListener('open', () => {
    status.textContent = 'live';
    status.className = 'pill ok';
  });
  source.addEventListener('error', () => {
    status.textContent = 'reconnecting…';
    status.className = 'pill warn';
  });
  source.addEventListener('pipeline', (ev) => {
    const s = JSON.parse((ev as MessageEvent).data) as PipelineSnapshot;
    updates++;
    const counter = document.getElementById('live-updates');
    if (counter) {
      counter.dataset.updates = String(updates);
      counter.textContent = `updated ${new Date(s.at).toLocaleTimeString()}`;
    }
    render(s);
  });

  function render(s: PipelineSnapshot): void {
    const now = Date.parse(s.at) / 1000;
    t.push(now);
    rin.push(s.rates.in === null ? null : Math.max(0, s.rates.in));
    rcommit.push(s.rates.committed === null ? null : Math.max(0, s.rates.committed));
    while (t.length && now - t[0] > WINDOW_S) {
      t.shift();
      rin.shift();
      rcommit.shift();
    }
    updateChart('pipeline_rates', t.slice(), [rin.slice(), rcommit.slice()]);
    const lag = s.lag ?? [];
    partitions = lag.map((l) => l.partition);
    updateChart(
      'pipeline_lag',
      lag.map((l) => l.partition),
      [lag.map((l) => l.lag)],
    );
    window.__charts.pipeline_lag.total = lag.reduce((a, l) => a + l.lag, 0);
    window.__charts.pipeline_rates.totals = s.totals;
    lagNote.textContent = s.lagError
      ? `Lag unavailable: ${s.lagError}`
      : `${s.topic}, group ${s.group}: ${lag.map((l) => `p${l.partition} ${l.committed ?? 0}/${l.end}`).join(' · ') || 'no partitions yet'}`;

    clear(kpis);
    const totalLag = lag.reduce((a, l) => a + l.lag, 0);
    kpis.append(
      kpi('In', fmt(s.rates.in === null ? null : Math.max(0, s.rates.in), 0), 'kpi-in', '/s'),
      kpi(
        'Committed',
        fmt(s.rates.committed === null ? null : Math.max(0, s.rates.committed), 0),
        'kpi-committed',
        '/s',
      ),
      kpi('Lag', s.lag ? fmt(totalLag, 0) : '–', 'kpi-lag', 'msgs'),
      kpi(
        'Latency p50 / p95 / p99',
        [s.latency_ms.p50, s.latency_ms.p95, s.latency_ms.p99].map((x) => fmt(x, 0)).join(' / '),
        'kpi-latency',
        'ms',
      ),
      kpi('Accepted', fmt(s.totals.accepted, 0), 'kpi-accepted'),
      kpi('Quarantined', fmt(s.totals.quarantined, 0), 'kpi-quarantined'),
      kpi('Model', s.model_version === null ? 'none' : `v${s.model_version}`, 'kpi-model'),
    );
    const r = s.retrain;
    retrainEl.textContent = !r
      ? ''
      : r.ok
        ? `Forecast retrained after ${r.month}: v${r.version} (${r.at})`
        : `Forecast retrain after ${r.month} failed (${r.at}), the previous model stays live: ${r.error}`;
    retrainEl.className = r && !r.ok ? 'error' : 'muted';
    clear(reasons);
    const rs = Object.entries(s.quarantine.reasons).sort((a, b) => b[1] - a[1]);
    for (const [r, n] of rs)
      reasons.append(h('tr', {}, h('td', {}, r), h('td', { class: 'num' }, fmt(n, 0))));
    if (rs.length === 0)
      reasons.append(h('tr', {}, h('td', { colspan: 2, class: 'muted' }, 'nothing quarantined')));
    clear(latest);
    for (const q of s.quarantine.latest)
      latest.append(
        h(
          'li',
          {},
          h('b', {}, q.reason),
          ` ${q.meter_id ?? ''} `,
          h('span', { class: 'muted' }, (q.detail ?? '').slice(0, 140)),
        ),
      );
    clear(workers);
    for (const w of s.workers) {
      // a stale status says nothing about now; a blocked one says why nothing is committed
      const state = w.stale ? 'stale' : w.blocked ? 'blocked' : 'committing';
      const updated = new Date(w.updated_at).toLocaleTimeString();
      workers.append(
        h(
          'tr',
          { class: state === 'stale' ? 'stale' : '', 'data-worker': w.worker, 'data-state': state },
          h('td', {}, w.worker),
          h('td', {}, w.assigned.map((a) => a.partition).join(', ')),
          h('td', { class: 'num' }, fmt(w.read, 0)),
          h('td', { class: 'num' }, fmt(w.accepted, 0)),
          h('td', { class: 'num' }, fmt(w.quarantined, 0)),
          h('td', { class: 'num' }, fmt(w.duplicates, 0)),
          h(
            'td',
            { class: state === 'blocked' ? 'blocked worker-state' : 'muted worker-state' },
            {
              blocked: 'not committing',
              stale: `stale since ${updated}`,
              committing: `committing (updated ${updated})`,
            }[state],
          ),
        ),
      );
      // why, on a row of its own under the worker's: the reason (a path, an error) is too long for a cell
      if (state === 'blocked' && w.blocked)
        workers.append(
          h(
            'tr',
            { class: 'blocked-reason', 'data-worker': w.worker },
            h(
              'td',
              { colspan: 7, class: 'blocked' },
              `not committing since ${new Date(w.blocked.since).toLocaleTimeString()}: ${w.blocked.reason}`,
            ),
          ),
        );
    }
    if (s.workers.length === 0)
      workers.append(
        h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'no stream worker has reported yet')),
      );
    clear(tables);
    for (const tb of s.tables)
      tables.append(
        h(
          'tr',
          {},
          h('td', {}, tb.path),
          h('td', { class: 'num' }, tb.version),
          h('td', { class: 'muted' }, tb.lastCommitAt.replace('T', ' ').slice(0, 19)),
        ),
      );
  }

  return () => source.close();
}
