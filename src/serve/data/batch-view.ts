// The serving layer's merge of the lambda architecture: daily consumption from the batch view for the
// days it covers (up to the day before its high-water mark) and from the stream's table after them.
// Only a complete view is read: when the batch table is not at the version the newest marker names (a
// run is replacing it, or one died half-way), the stream's table serves alone until a run completes.

import { latestView } from '../../batch/view.ts';
import { METER_TABLES } from '../../domain/meters/tables.ts';
import { DeltaTable } from '../../lake/index.ts';
import { type LakeReader, viewName } from '../lake-reader.ts';

const BATCH_DAILY = 'meters/batch/daily';
const COLUMNS = 'meter_id, kind, day, value, complete, tariff, acorn_group';

/** What a response says it read: the stream's tables alone, or the batch view's run for some days. */
export type ServedFrom =
  | { tables: 'stream'; why: string }
  | { tables: 'batch+stream'; batch_run: number; batch_days: { from: string | null; to: string } };

export async function servedFrom(lake: LakeReader): Promise<ServedFrom> {
  const view = await latestView(lake.store).catch(() => undefined);
  if (!view?.mark) return { tables: 'stream', why: 'no batch view yet' };
  // the table's version now, from its log (the server's table list may be a few seconds old)
  const version = await new DeltaTable(lake.store, BATCH_DAILY)
    .snapshot()
    .then((s) => s.version)
    .catch(() => undefined);
  // …and the server must list it already to query it (its list refreshes every few seconds)
  const listed = await lake
    .tables()
    .then((ts) => ts.some((t) => t.path === BATCH_DAILY))
    .catch(() => false);
  if (version !== view.tables[BATCH_DAILY] || !listed)
    return { tables: 'stream', why: `batch view run ${view.run + 1} is being written` };
  // the mark's day may still take readings: the batch view serves the days before it
  const beforeMark = new Date(Date.parse(view.mark.slice(0, 10)) - 86_400_000).toISOString().slice(0, 10);
  const to = view.to && view.to < beforeMark ? view.to : beforeMark;
  return { tables: 'batch+stream', batch_run: view.run, batch_days: { from: view.from, to } };
}

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** A FROM item with the daily table's columns, merged as `from` says (meters' rows only). */
export function dailyRelation(from: ServedFrom): string {
  const stream = viewName(METER_TABLES.daily.path);
  if (from.tables === 'stream') return stream;
  const { from: a, to: b } = from.batch_days;
  const inBatch = `day <= ${lit(b)}${a ? ` AND day >= ${lit(a)}` : ''}`;
  return `(SELECT ${COLUMNS} FROM ${viewName(BATCH_DAILY)} WHERE ${inBatch}
           UNION ALL SELECT ${COLUMNS} FROM ${stream} WHERE NOT (${inBatch}) AND meter_id <> '__fleet__') AS merged`;
}
