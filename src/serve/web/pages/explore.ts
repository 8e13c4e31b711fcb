// Explore: read-only SQL over the lake's tables — the table list with schemas, a results grid, a quick chart.

import type { SqlResult, TableList } from '../../explore/sandbox.ts';
import { get, post } from '../api.ts';
import { destroyChart, drawChart } from '../chart.ts';
import { card, clear, errorBox, fmt, h } from '../dom.ts';

const DEFAULT_SQL = `-- electricity per month over every meter
SELECT month, round(sum(value), 1) AS kwh, count(DISTINCT meter_id) AS meters
FROM meters_gold_monthly
WHERE kind = 'electricity' AND meter_id <> '__fleet__'
GROUP BY month ORDER BY month`;

let lastSql = DEFAULT_SQL;

/** A grid cell: NULL shown as such, floats to 6 significant decimals (the exact value is the cell's title). */
function cell(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(6)));
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export async function explorePage(root: HTMLElement): Promise<void> {
  const info = await get<TableList>('/api/tables');
  const editor = h('textarea', { id: 'sql', spellcheck: 'false', rows: 7, 'aria-label': 'SQL query' });
  editor.value = lastSql;
  const run = h('button', { type: 'button', class: 'primary', id: 'run-sql' }, 'Run ▸');
  const status = h('span', { class: 'muted small', id: 'sql-status' });
  const errors = h('div', { id: 'sql-error' });
  const chartEl = h('div', { id: 'explore-chart' });
  const chartNote = h('p', { class: 'muted small', id: 'explore-chart-note' });
  const chartCard = card('Quick chart', chartEl, chartNote);
  chartCard.hidden = true;
  const grid = h('table', { class: 'grid', id: 'results' });
  const list = h('div', { class: 'table-list' });
  for (const t of info.tables)
    list.append(
      h(
        'details',
        {},
        h(
          'summary',
          {},
          h('code', {}, t.view),
          h(
            'div',
            { class: 'muted small meta' },
            `version ${t.version} · ${t.rows === null ? '?' : t.rows.toLocaleString('en-GB')} rows · ${t.files} files`,
          ),
        ),
        h(
          'ul',
          { class: 'schema' },
          ...t.columns.map((c) =>
            h(
              'li',
              {},
              h('button', { type: 'button', class: 'link', onclick: () => insert(c.name) }, c.name),
              h('span', { class: 'muted' }, ` ${c.type}`),
            ),
          ),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'link small',
            onclick: () => {
              editor.value = `SELECT * FROM ${t.view} LIMIT 100`;
              void execute();
            },
          },
          'preview 100 rows',
        ),
      ),
    );
  if (info.tables.length === 0) list.append(h('p', { class: 'muted' }, 'The lake has no tables yet.'));
  root.append(
    h(
      'div',
      { class: 'explore' },
      card('Tables', list),
      h(
        'div',
        {},
        card(
          'SQL (read-only)',
          editor,
          h(
            'div',
            { class: 'toolbar tight' },
            run,
            status,
            h(
              'span',
              { class: 'muted small right' },
              `one SELECT · at most ${info.rowCap.default} rows · ${info.timeoutMs / 1000} s timeout · Ctrl+Enter runs`,
            ),
          ),
          errors,
        ),
        chartCard,
        card('Results', h('div', { class: 'table-wrap tall' }, grid)),
      ),
    ),
  );
  function insert(text: string): void {
    const at = editor.selectionStart ?? editor.value.length;
    editor.value = editor.value.slice(0, at) + text + editor.value.slice(editor.selectionEnd ?? at);
    editor.focus();
  }
  run.addEventListener('click', () => void execute());
  editor.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void execute();
    }
  });

  async function execute(): Promise<void> {
    lastSql = editor.value;
    clear(errors);
    status.textContent = 'running…';
    run.disabled = true;
    try {
      const r = await post<SqlResult>('/api/sql', { sql: editor.value });
      status.textContent = `${r.rows.length} row(s) in ${r.elapsedMs} ms`;
      renderGrid(r);
      renderChart(r);
    } catch (e) {
      status.textContent = '';
      errors.append(errorBox((e as Error).message));
    } finally {
      run.disabled = false;
    }
  }

  function renderGrid(r: SqlResult): void {
    clear(grid);
    grid.append(
      h('thead', {}, h('tr', {}, ...r.columns.map((c) => h('th', { title: c.type }, c.name)))),
      h(
        'tbody',
        {},
        ...r.rows.map((row) =>
          h(
            'tr',
            {},
            ...row.map((v) =>
              h(
                'td',
                {
                  class: typeof v === 'number' ? 'num' : '',
                  title: typeof v === 'number' ? String(v) : undefined,
                },
                cell(v),
              ),
            ),
          ),
        ),
      ),
    );
  }

  /** A chart when the result is (label or time, number…): x = the first column, one series per numeric column. */
  function renderChart(r: SqlResult): void {
    const numeric = r.columns
      .map((c, i) => (i > 0 && /INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC/i.test(c.type) ? i : -1))
      .filter((i) => i > 0);
    if (r.rows.length < 2 || numeric.length === 0) {
      chartCard.hidden = true;
      destroyChart('explore');
      return;
    }
    chartCard.hidden = false;
    // one y axis: a column of another magnitude (a count of meters beside kWh in thousands) would lie
    // flat on zero or flatten the others, so only the columns of the largest one's scale are drawn
    const peak = (i: number) => Math.max(0, ...r.rows.map((row) => Math.abs(Number(row[i])) || 0));
    const top = Math.max(...numeric.map(peak));
    const drawn = numeric.filter((i) => peak(i) >= top / 20).slice(0, 4);
    const left = numeric.filter((i) => !drawn.includes(i));
    chartNote.textContent =
      left.length > 0
        ? `Not drawn, on another scale than ${drawn.map((i) => r.columns[i].name).join(', ')}: ${left.map((i) => `${r.columns[i].name} (up to ${fmt(peak(i))})`).join(', ')} — select it alone to chart it.`
        : '';
    const first = r.rows.map((row) => row[0]);
    const asTime = first.map((v) =>
      typeof v === 'string' && /^\d{4}-\d{2}(-\d{2})?/.test(v)
        ? Date.parse(v.length === 7 ? `${v}-01T00:00:00Z` : v.length === 10 ? `${v}T00:00:00Z` : v) / 1000
        : Number.NaN,
    );
    const time = asTime.every((x) => Number.isFinite(x));
    const numericX = first.every((v) => typeof v === 'number');
    const x = time ? asTime : numericX ? (first as number[]) : first.map((_, i) => i);
    drawChart('explore', chartEl, {
      x,
      time,
      xLabel: r.columns[0].name,
      yLabel: drawn.length === 1 ? r.columns[drawn[0]].name : 'value',
      height: 240,
      series: drawn.map((i, k) => ({
        label: r.columns[i].name,
        color: ['--accent', '--c2', '--c3', '--c4'][k],
        y: r.rows.map((row) => (row[i] === null ? null : Number(row[i]))),
      })),
    });
  }

  await execute();
}
