// The dashboard's entry: a hash router over the pages (#/consumption, #/forecast, #/pipeline, #/cluster-trace,
// #/explore).

import './style.css';
import type { ServerInfo } from '../api.ts';
import { get } from './api.ts';
import { destroyAll } from './chart.ts';
import { clear, errorBox, h } from './dom.ts';
import { clusterTracePage } from './pages/cluster-trace.ts';
import { consumptionPage } from './pages/consumption.ts';
import { explorePage } from './pages/explore.ts';
import { forecastPage } from './pages/forecast.ts';
import { pipelinePage } from './pages/pipeline.ts';

/** A page renders into root; it may return a function that stops it (the live page closes its stream). */
type Page = (root: HTMLElement, params: URLSearchParams) => Promise<unknown> | unknown;

const PAGES: Record<string, { title: string; render: Page }> = {
  consumption: { title: 'Consumption', render: consumptionPage },
  forecast: { title: 'Forecast', render: forecastPage },
  pipeline: { title: 'Pipeline', render: pipelinePage },
  'cluster-trace': { title: 'Cluster trace', render: clusterTracePage },
  explore: { title: 'Explore', render: explorePage },
};

/** Old page names, kept so links to them still land: the trace page was "Cluster" (#/cluster). */
const RENAMED: Record<string, string> = { cluster: 'cluster-trace' };

let cleanup: (() => void) | undefined;

async function show(): Promise<void> {
  const [name, query] = (location.hash.replace(/^#\/?/, '') || 'consumption').split('?');
  if (RENAMED[name]) {
    location.replace(`#/${RENAMED[name]}${query === undefined ? '' : `?${query}`}`);
    return;
  }
  const page = PAGES[name] ?? PAGES.consumption;
  const key = PAGES[name] ? name : 'consumption';
  cleanup?.();
  cleanup = undefined;
  destroyAll();
  const root = document.getElementById('page')!;
  clear(root);
  root.dataset.page = key;
  root.dataset.ready = 'false';
  document.title = `${page.title} · lakestream`;
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('#nav a')))
    a.classList.toggle('active', a.dataset.page === key);
  root.append(h('h1', {}, page.title));
  try {
    const r = await page.render(root, new URLSearchParams(query ?? ''));
    if (typeof r === 'function') cleanup = r as () => void;
  } catch (e) {
    root.append(errorBox((e as Error).message));
  }
  root.dataset.ready = 'true';
}

window.addEventListener('hashchange', () => void show());
void show();
void get<ServerInfo>('/api/info')
  .then((i) => {
    const el = document.getElementById('lake-info');
    if (el) el.textContent = i.lake;
  })
  .catch(() => {});
