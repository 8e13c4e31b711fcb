// The batch view's marker: which version of each batch table makes one complete view, and the event-time
// high-water mark it covers. A run writes its tables first (each a Delta commit replacing the table),
// then one marker, put-if-absent as `<workload>/batch/_view/<run>.json`: readers take the newest marker and
// read each table AT the version it names, so a run that dies between its commits is never seen.

import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';

/** the meters' markers; each workload with a batch view has its own folder */
export const VIEW_DIR = 'meters/batch/_view';
export const TRACE_VIEW_DIR = 'cluster-trace/batch/_view';

export interface BatchView {
  /** the run's number: 1, 2, … (the marker's name) */
  run: number;
  engine: string;
  /** the latest event time the run covered, null: none — meters: ISO 8601 UTC; cluster-trace: trace µs */
  mark: string | null;
  /** the local days covered (inclusive), null: from the first / to the last */
  from: string | null;
  to: string | null;
  /** table path → the Delta version holding this run's rows */
  tables: Record<string, number>;
  finishedAt: string;
}

const markerPath = (dir: string, run: number) => `${dir}/${String(run).padStart(20, '0')}.json`;

/** The newest complete batch view, or undefined when no run finished yet. */
export async function latestView(store: ObjectStore, dir = VIEW_DIR): Promise<BatchView | undefined> {
  const markers = (await store.list(`${dir}/`)).filter((o) => /\/\d{20}\.json$/.test(o.path));
  const last = markers.at(-1);
  if (!last) return undefined;
  const bytes = await store.get(last.path);
  return JSON.parse(new TextDecoder().decode(bytes)) as BatchView;
}

/** Publishes a run's view as the next marker; two runs racing for one number: the second takes the next. */
export async function publishView(
  store: ObjectStore,
  view: Omit<BatchView, 'run'>,
  dir = VIEW_DIR,
): Promise<BatchView> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const run = ((await latestView(store, dir))?.run ?? 0) + 1;
    const full = { run, ...view };
    const res = await store.putIfAbsent(markerPath(dir, run), new TextEncoder().encode(JSON.stringify(full)));
    if (res.written) return full;
  }
  throw new LakestreamError('CONFLICT', `could not publish the batch view: ${dir} keeps changing`);
}
