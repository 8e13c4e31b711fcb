// The serving layer's merge of the lambda architecture: each table the batch view produces is read from
// the batch view for what it covers and from the stream's table after it —
// - the meters' hourly (silver), daily and monthly: the batch view's days up to the day before its
//   high-water mark (within its --from/--to), its months wholly inside those days; the stream's after;
// - the trace's task lifecycles: the attempts the batch view closed (all ended at or before its mark)
//   from the batch view; the attempts still open at its mark, or begun after it, from the stream.
// Only a complete view is read: when a batch table is not at the version the newest marker names (a
// run is replacing it, or one died half-way), the stream's table serves alone until a run completes.
// Every response built on a merged relation says which tables it read (its `source`).

import { latestView, TRACE_VIEW_DIR, VIEW_DIR } from '../../batch/view.ts';
import { TRACE_LAKE_TABLES } from '../../domain/cluster-trace/tables.ts';
import { FLEET_ID, METER_TABLES } from '../../domain/meters/tables.ts';
import { DeltaTable } from '../../lake/index.ts';
import { type LakeReader, viewName } from '../lake-reader.ts';

/** Each served table the batch view recomputes: its batch twin, the view's markers, the columns merged. */
export const MERGED = {
  hourly: {
    stream: METER_TABLES.silver.path,
    batch: 'meters/batch/hourly',
    viewDir: VIEW_DIR,
    columns: 'meter_id, kind, hour, day, value, n_readings, tariff, acorn, acorn_group, month',
  },
  daily: {
    stream: METER_TABLES.daily.path,
    batch: 'meters/batch/daily',
    viewDir: VIEW_DIR,
    columns: 'meter_id, kind, day, value, unit, complete, tariff, acorn_group, month',
  },
  monthly: {
    stream: METER_TABLES.monthly.path,
    batch: 'meters/batch/monthly',
    viewDir: VIEW_DIR,
    columns: 'meter_id, kind, month, value, unit, complete, closed',
  },
  lifecycles: {
    stream: TRACE_LAKE_TABLES.lifecycles.path,
    batch: 'cluster-trace/batch/task_lifecycles',
    viewDir: TRACE_VIEW_DIR,
    columns: TRACE_LAKE_TABLES.lifecycles.schema.map((c) => c.name).join(', '),
  },
} as const;

export type MergedTable = keyof typeof MERGED;

/** What a response says it read: the stream's table alone, or the batch view's run for what it covers. */
export type ServedFrom =
  | { tables: 'stream'; stream_table: string; why: string }
  | {
      tables: 'batch+stream';
      batch_run: number;
      batch_table: string;
      stream_table: string;
      /** meters: the local days (and the months wholly inside them) read from the batch view */
      batch_days?: { from: string | null; to: string };
      /** cluster-trace: the view's mark, trace µs; the attempts it closed by then come from the batch view */
      batch_until?: number;
    };

export async function servedFrom(lake: LakeReader, table: MergedTable): Promise<ServedFrom> {
  const t = MERGED[table];
  const stream = (why: string): ServedFrom => ({ tables: 'stream', stream_table: t.stream, why });
  const view = await latestView(lake.store, t.viewDir).catch(() => undefined);
  if (!view?.mark) return stream('no batch view yet');
  if (view.tables[t.batch] === undefined) return stream(`batch view run ${view.run} has no ${t.batch}`);
  // the table's version now, from its log (the server's table list may be a few seconds old)
  const version = await new DeltaTable(lake.store, t.batch)
    .snapshot()
    .then((s) => s.version)
    .catch(() => undefined);
  // …and the server must list it already to query it (its list refreshes every few seconds)
  const listed = await lake
    .tables()
    .then((ts) => ts.some((x) => x.path === t.batch))
    .catch(() => false);
  if (version !== view.tables[t.batch] || !listed)
    return stream(`batch view run ${view.run + 1} is being written`);
  const batch = {
    tables: 'batch+stream',
    batch_run: view.run,
    batch_table: t.batch,
    stream_table: t.stream,
  } as const;
  if (t.viewDir === TRACE_VIEW_DIR) return { ...batch, batch_until: Number(view.mark) };
  // the mark's day may still take readings: the batch view serves the days before it
  const beforeMark = new Date(Date.parse(view.mark.slice(0, 10)) - 86_400_000).toISOString().slice(0, 10);
  const to = view.to && view.to < beforeMark ? view.to : beforeMark;
  return { ...batch, batch_days: { from: view.from, to } };
}

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The first and the last of the months wholly inside the days from..to ('YYYY-MM'; from null: no first). */
function monthsWithin(from: string | null, to: string): { first: string | null; last: string } {
  const next = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const prevMonth = (m: string) => {
    const [y, mo] = m.split('-').map(Number);
    return new Date(Date.UTC(y, mo - 2, 1)).toISOString().slice(0, 7);
  };
  const nextMonth = (m: string) => {
    const [y, mo] = m.split('-').map(Number);
    return new Date(Date.UTC(y, mo, 1)).toISOString().slice(0, 7);
  };
  // `to` ends its month when the next day starts another
  const last = next(to).slice(0, 7) !== to.slice(0, 7) ? to.slice(0, 7) : prevMonth(to.slice(0, 7));
  const first = from === null ? null : from.endsWith('-01') ? from.slice(0, 7) : nextMonth(from.slice(0, 7));
  return { first, last };
}

/** The condition a batch row (its columns prefixed with `p`) meets to be served from the batch view. */
function inBatch(table: MergedTable, from: Extract<ServedFrom, { tables: 'batch+stream' }>, p = ''): string {
  if (table === 'lifecycles') return `${p}outcome <> 'open' AND ${p}first_time <= ${from.batch_until ?? 0}`;
  const { from: a, to: b } = from.batch_days ?? { from: null, to: '' };
  if (table === 'monthly') {
    const m = monthsWithin(a, b);
    return `month <= ${lit(m.last)}${m.first ? ` AND month >= ${lit(m.first)}` : ''}`;
  }
  return `day <= ${lit(b)}${a ? ` AND day >= ${lit(a)}` : ''}`;
}

/**
 * A FROM item with the merged columns of `table`, as `from` says: the stream's FROM item alone, or the
 * batch view's rows it covers and the stream's others (the meters' rows only: the batch view has no
 * fleet rows). `scan` gives each table's FROM item (a pruned scan), else its view.
 */
export function mergedRelation(
  table: MergedTable,
  from: ServedFrom,
  scan: { stream?: string; batch?: string } = {},
): string {
  const t = MERGED[table];
  const stream = scan.stream ?? viewName(t.stream);
  if (from.tables === 'stream') return stream;
  const batch = scan.batch ?? viewName(t.batch);
  const cond = inBatch(table, from);
  const streamRows =
    table === 'lifecycles'
      ? // an attempt the batch view closed is its, whatever the stream kept of it
        `NOT EXISTS (SELECT 1 FROM ${batch} b WHERE ${inBatch(table, from, 'b.')}
           AND b.job_id = s.job_id AND b.task_index = s.task_index AND b.first_time = s.first_time)`
      : `NOT (${cond}) AND meter_id <> ${lit(FLEET_ID)}`;
  return `(SELECT ${t.columns} FROM ${batch} WHERE ${cond}
           UNION ALL SELECT ${t.columns} FROM ${stream} s WHERE ${streamRows}) AS merged_${table}`;
}
