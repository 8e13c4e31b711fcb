// The forecast's fleet total: rows of meters/gold/predictions and meters/gold/prediction_outcomes
// whose meter_id is FLEET_ID, one per (kind, month, as_of_day), each the sum over the meter rows of
// that key (the meters that predicted at that as_of_day).
//
// A fleet row spans partitions, so no partition's processor can write it. After each batch commit,
// the worker recomputes the fleet rows of the months the batch wrote from the table itself and
// replaces them (files named fleet-…) in a commit checked against the version it read: a fleet
// commit that landed meanwhile (another worker's) makes it read again. So the last fleet commit of
// a month has read every meter row committed before it — the final rows do not depend on timing or
// on how partitions are spread over workers — and recomputing after a replayed batch is harmless.

import { FLEET_ID, METER_TABLES } from '../../domain/meters/tables.ts';
import { LakestreamError } from '../../errors.ts';
import type { AddFile } from '../../lake/index.ts';
import {
  backoff,
  filesSelect,
  type Lake,
  parseStats,
  prepareTableWrite,
  withDuck,
} from '../../lake/index.ts';
import type { Row } from '../../stream/outputs.ts';

const FLEET_FILE_PREFIX = 'fleet-';
const MAX_ATTEMPTS = 50;

/**
 * A sum in a fixed order (by meter): floating-point addition is not associative, and the fleet rows
 * must come out bit for bit the same whatever files, and in what order, hold the meter rows.
 */
const total = (col: string) => `list_sum(list(${col} ORDER BY meter_id))`;

/** The fleet row of each (kind, month, as_of_day) from the meter rows of a table's snapshot. */
const SUMS: Record<string, (from: string) => string> = {
  [METER_TABLES.predictions.path]: (from) => `
    SELECT kind, month, as_of_day, ${total('predicted_total')} AS predicted_total,
           ${total('observed_to_date')} AS observed_to_date, max(model_version) AS model_version,
           max(predicted_at) AS predicted_at
    FROM (${from}) WHERE meter_id <> '${FLEET_ID}' GROUP BY ALL`,
  [METER_TABLES.outcomes.path]: (from) => `
    SELECT kind, month, as_of_day, predicted_total, actual_total, predicted_total - actual_total AS error,
           CASE WHEN actual_total <> 0 THEN abs(predicted_total - actual_total) / abs(actual_total) * 100 END AS ape,
           model_version
    FROM (SELECT kind, month, as_of_day, ${total('predicted_total')} AS predicted_total,
                 ${total('actual_total')} AS actual_total, max(model_version) AS model_version
          FROM (${from}) WHERE meter_id <> '${FLEET_ID}' GROUP BY ALL)`,
};

/** The tables that hold fleet rows. */
export const FLEET_TABLES = Object.keys(SUMS);

/** The months (partition values) a batch's actions added files to. */
export function monthsAdded(actions: object[]): Set<string> {
  const out = new Set<string>();
  for (const a of actions) {
    const add = (a as { add?: AddFile }).add;
    const month = add?.partitionValues?.month;
    if (month && !fleetFile(add)) out.add(month);
  }
  return out;
}

function fleetFile(f: AddFile): boolean {
  return decodeURIComponent(f.path).split('/').pop()!.startsWith(FLEET_FILE_PREFIX);
}

function mayHoldFleet(f: AddFile): boolean {
  const s = parseStats(f);
  const min = s?.minValues?.meter_id;
  const max = s?.maxValues?.meter_id;
  if (typeof min !== 'string' || typeof max !== 'string') return true;
  return min <= FLEET_ID && FLEET_ID <= max;
}

/**
 * Recomputes and replaces the fleet rows of `months` in `table` (predictions or outcomes). Returns
 * the fleet rows whose values changed (new ones included), for the predictions topic.
 */
export async function rollUpFleet(lake: Lake, table: string, months: Set<string>): Promise<Row[]> {
  const sums = SUMS[table];
  if (!sums) throw new LakestreamError('INTERNAL', `table ${table} has no fleet rows`);
  if (months.size === 0) return [];
  const t = lake.table(table);
  const inMonths = (f: AddFile) => months.has(String(f.partitionValues.month));
  const isFleetFile = (f: AddFile) => inMonths(f) && fleetFile(f);
  // Fleet rows live in fleet-… files, unless a compaction merged them with meter rows: then the
  // file's meter_id range says it may hold them.
  const mayHold = (f: AddFile) => inMonths(f) && (fleetFile(f) || mayHoldFleet(f));
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const snap = await t.snapshot();
    const files = snap.files.filter(inMonths);
    const from = await filesSelect(lake.store, snap, files);
    const [fresh, before] = await withDuck(async (conn) => {
      const now = (await conn.runAndReadAll(`${sums(from)} ORDER BY ALL`)).getRowObjectsJS() as Row[];
      const old = (
        await conn.runAndReadAll(`SELECT * FROM (${from}) WHERE meter_id = '${FLEET_ID}'`)
      ).getRowObjectsJS() as Row[];
      return [now, old];
    });
    const rows = fresh.map((r) => ({ meter_id: FLEET_ID, ...r }));
    const actions = await prepareTableWrite(lake, {
      table: t,
      rows,
      replaced: new Set([...months].map((m) => `${FLEET_ID}|${m}`)),
      keyColumns: ['meter_id', 'month'],
      mayHold,
      filePrefix: FLEET_FILE_PREFIX,
    });
    const r = await t.commit(actions as never, {
      operation: 'FLEET ROLLUP',
      operationParameters: { months: [...months].sort() },
      read: { version: snap.version, where: isFleetFile },
    });
    if (r.status !== 'conflict') return changed(before, rows);
    await backoff(attempt + 1);
  }
  throw new LakestreamError(
    'CONFLICT',
    `table ${table}: fleet rows of ${[...months].sort().join(', ')} not replaced after ${MAX_ATTEMPTS} attempts`,
    { retriable: true },
  );
}

function changed(before: Row[], after: Row[]): Row[] {
  const key = (r: Row) => `${r.kind}|${r.month}|${r.as_of_day}`;
  const old = new Map(before.map((r) => [key(r), r]));
  return after.filter((r) => {
    const o = old.get(key(r));
    return !o || Object.keys(r).some((c) => String(o[c]) !== String(r[c]));
  });
}
