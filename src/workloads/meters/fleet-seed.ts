// The fleet partials of a lake written before they existed. Such a lake holds meter rows of
// predictions and outcomes that no partial accounts for, so the roll-ups of a month in progress
// (fleet.ts) would sum only what arrived after the upgrade, and replace the month's fleet rows with
// that. The worker that creates the partials table (ensureTables, before its first batch) gives it
// these rows: per (source, kind, month, as_of_day), the exact sums of what the meter rows hold, as
// the batches that wrote them would have added them (fleet-partials.ts).
//
// Once and exactly once: the rows are in the table's version 0, which is put-if-absent, so of
// workers racing to create it one seeds and the others find the table; a worker killed before
// version 0 leaves no table, and the next one seeds. And nothing is counted twice: a batch adds
// partials only once the table exists (the worker creates it before any batch), so every meter row
// the seed read was written before it, by a worker without partials.
// (A lake whose partials table was created by a worker without this step is not seeded: its
// partials cannot tell which meter rows they hold.)

import { FLEET_ID, METER_TABLES } from '../../domain/meters/tables.ts';
import { filesSelect, type Lake, type Row, withDuck } from '../../lake/index.ts';
import { getOrCreate } from '../../stream/outputs.ts';
import { exact, ZERO } from './exact-sum.ts';
import { accumulate, type FleetPartial, type FleetSource, partialKey, partialRow } from './fleet-partials.ts';

/** What each meter row adds to its partial: the columns summed (the second after predicted_total). */
const SOURCES: { table: string; source: FleetSource; second: string; at: string }[] = [
  {
    table: METER_TABLES.predictions.path,
    source: 'predictions',
    second: 'observed_to_date',
    at: 'epoch_ms(predicted_at)',
  },
  { table: METER_TABLES.outcomes.path, source: 'outcomes', second: 'actual_total', at: 'NULL' },
];

/**
 * The partials rows that account for the meter rows the lake's predictions and outcomes hold, a
 * month at a time (none on a lake without them).
 */
export async function seedFleetPartials(lake: Lake): Promise<Row[]> {
  const out: Row[] = [];
  for (const s of SOURCES) {
    const t = lake.table(s.table);
    if (!(await t.exists())) continue;
    const snap = await t.snapshot();
    const months = [...new Set(snap.files.map((f) => String(f.partitionValues.month)))].sort();
    for (const month of months) {
      const files = snap.files.filter((f) => f.partitionValues.month === month);
      const from = await filesSelect(lake.store, snap, files);
      const rows = await withDuck(
        async (conn) =>
          (
            await conn.runAndReadAll(
              `SELECT kind, as_of_day, predicted_total, ${s.second} AS second, model_version, ${s.at} AS at
               FROM (${from}) WHERE meter_id <> '${FLEET_ID}'`,
            )
          ).getRowObjectsJS() as Row[],
      );
      const sums = new Map<string, FleetPartial>();
      for (const r of rows) {
        const k = Number(r.as_of_day);
        const version = Number(r.model_version);
        const at = r.at === null ? null : Number(r.at);
        const p = getOrCreate(sums, partialKey(s.source, String(r.kind), month, k), () => ({
          source: s.source,
          kind: String(r.kind),
          month,
          k,
          predicted: ZERO,
          second: ZERO,
          version,
          predictedAt: at,
        }));
        accumulate(p, exact(Number(r.predicted_total)), exact(Number(r.second)), version, at);
      }
      for (const p of sums.values()) out.push(partialRow(p));
    }
  }
  return out;
}
