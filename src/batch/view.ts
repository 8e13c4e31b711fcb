// The batch view's marker: which version of each batch table makes one complete view, and the event-time
// high-water mark it covers. A run writes its tables first (each a Delta commit replacing the table),
// then one marker, put-if-absent as `meters/batch/_view/<run>.json`: readers take the newest marker and
// read each table AT the version it names, so a run that dies between its commits is never seen.

import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';

export const VIEW_DIR = 'meters/batch/_view';

export interface BatchView {
  /** the run's number: 1, 2, … (the marker's name) */
  run: number;
  engine: string;
  /** the latest event time (ISO 8601, UTC) among the readings the run covered; null: none */
  mark: string | null;
  /** the local days covered (inclusive), null: from the first / to the last */
  from: string | null;
  to: string | null;
  /** table path → the Delta version holding this run's rows */
  tables: Record<string, number>;
  finishedAt: string;
}

const markerPath = (run: number) => `${VIEW_DIR}/${String(run).padStart(20, '0')}.json`;

/** The newest complete batch view, or undefined when no run finished yet. */
export async function latestView(store: ObjectStore): Promise<BatchView | undefined> {
  const markers = (await store.list(`${VIEW_DIR}/`)).filter((o) => /\/\d{20}\.json$/.test(o.path));
  const last = markers.at(-1);
  if (!last) return undefined;
  const bytes = await store.get(last.path);
  return JSON.parse(new TextDecoder().decode(bytes)) as BatchView;
}

/** Publishes a run's view as the next marker; two runs racing for one number: the second takes the next. */
export async function publishView(store: ObjectStore, view: Omit<BatchView, 'run'>): Promise<BatchView> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const run = ((await latestView(store))?.run ?? 0) + 1;
    const full = { run, ...view };
    const res = await store.putIfAbsent(markerPath(run), new TextEncoder().encode(JSON.stringify(full)));
    if (res.written) return full;
  }
  throw new LakestreamError('CONFLICT', `could not publish the batch view: ${VIEW_DIR} keeps changing`);
}
