// The forecast's fleet total: rows of meters/gold/predictions and meters/gold/prediction_outcomes
// whose meter_id is FLEET_ID, one per (kind, month, as_of_day), each the sum over the meter rows of
// that key (the meters that predicted at that as_of_day).
//
// A fleet row spans partitions, so no partition's processor can write it. Each batch appends what
// its meter rows add to each key to the fleet partials table (fleet-partials.ts; same txn as its
// other rows, so exactly once). After each batch commit, the worker sums the partials of the months
// the batch wrote and replaces their fleet rows (files named fleet-…) in a commit checked against
// the version it read: a fleet commit that landed meanwhile (another worker's) makes it read again.
// It reads that version before the partials, so the last fleet commit of a month has read every
// partial committed before it. The cost of a roll-up grows with the partials of the months (a few
// rows per key and batch, folded now and then: foldFleetPartials), not with their meter rows. After
// a batch (afterBatch), both tables' roll-ups and the fold share one read of the partials: the
// tables' versions first, then the partials once; only a roll-up that lost a race reads them again.
//
// The sums are exact (exact-sum.ts), read out as the nearest double: the same whatever the order in
// which batches, partitions and workers added them, so the final rows do not depend on timing, on
// how partitions are spread over workers, on file layout or on replays. (They are the correctly
// rounded sums of the meter rows: the meter-ordered list_sum this replaced could differ from them in
// the last bits.)

import { FLEET_ID, FLEET_PARTIALS, METER_TABLES } from '../../domain/meters/tables.ts';
import { LakestreamError } from '../../errors.ts';
import type { Action, AddFile } from '../../lake/index.ts';
import {
  backoff,
  filesSelect,
  type Lake,
  parseStats,
  prepareTableWrite,
  removeFor,
  type Snapshot,
  withDuck,
} from '../../lake/index.ts';
import { getOrCreate, type Row } from '../../stream/outputs.ts';
import { fromText, toNumber, ZERO } from './exact-sum.ts';
import { accumulate, type FleetPartial, type FleetSource, partialKey, partialRow } from './fleet-partials.ts';

const FLEET_FILE_PREFIX = 'fleet-';
const MAX_ATTEMPTS = 50;
/** a month's partials files beyond which a roll-up folds them into one */
export const FOLD_AT = 16;

/** The fleet rows of each table, from the summed partials of their source. */
const SOURCES: Record<string, { source: FleetSource; row: (p: FleetPartial) => Row }> = {
  [METER_TABLES.predictions.path]: {
    source: 'predictions',
    row: (p) => ({
      kind: p.kind,
      month: p.month,
      as_of_day: p.k,
      predicted_total: toNumber(p.predicted),
      observed_to_date: toNumber(p.second),
      model_version: p.version,
      predicted_at: new Date(p.predictedAt ?? 0),
    }),
  },
  [METER_TABLES.outcomes.path]: {
    source: 'outcomes',
    row: (p) => {
      const predicted = toNumber(p.predicted);
      const actual = toNumber(p.second);
      return {
        kind: p.kind,
        month: p.month,
        as_of_day: p.k,
        predicted_total: predicted,
        actual_total: actual,
        error: predicted - actual,
        ape: actual !== 0 ? (Math.abs(predicted - actual) / Math.abs(actual)) * 100 : null,
        model_version: p.version,
      };
    },
  },
};

/** The tables that hold fleet rows. */
export const FLEET_TABLES = Object.keys(SOURCES);

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

const byCodePoint = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

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

/** One read of the partials of some months: their sums per key, the files they came from, the rows read. */
export interface PartialsRead {
  sums: Map<string, FleetPartial>;
  files: AddFile[];
  read: number;
}

/**
 * The partials of `months` summed per key (source, kind, month, as_of_day), with the files they
 * came from: every live file of those months in FLEET_PARTIALS (at `snap`, else its latest version).
 */
export async function sumFleetPartials(
  lake: Lake,
  months: Set<string>,
  snap?: Snapshot,
): Promise<PartialsRead> {
  snap ??= await lake.table(FLEET_PARTIALS.path).snapshot();
  const files = snap.files.filter((f) => months.has(String(f.partitionValues.month)));
  const sums = new Map<string, FleetPartial>();
  if (files.length === 0) return { sums, files, read: 0 };
  const from = await filesSelect(lake.store, snap, files);
  const rows = await withDuck(
    async (conn) =>
      (
        await conn.runAndReadAll(
          `SELECT source, kind, month, as_of_day, predicted_total, coalesce(observed_to_date, actual_total) AS second,
                  model_version, epoch_ms(predicted_at) AS predicted_at FROM (${from})`,
        )
      ).getRowObjectsJS() as Row[],
  );
  for (const r of rows) {
    const key = partialKey(String(r.source), String(r.kind), String(r.month), Number(r.as_of_day));
    const at = r.predicted_at === null ? null : Number(r.predicted_at);
    const version = Number(r.model_version);
    const s = getOrCreate(sums, key, () => ({
      source: r.source as FleetSource,
      kind: String(r.kind),
      month: String(r.month),
      k: Number(r.as_of_day),
      predicted: ZERO,
      second: ZERO,
      version,
      predictedAt: at,
    }));
    accumulate(s, fromText(String(r.predicted_total)), fromText(String(r.second)), version, at);
  }
  return { sums, files, read: rows.length };
}

/**
 * After a batch commit: replaces the fleet rows of the months each fleet table's `actions` added
 * rows to, then folds the partials of the months the batch added partials to that have grown past
 * FOLD_AT files — all from one read of the partials (see the header). Returns, per fleet table, the
 * fleet rows whose values changed.
 */
export async function afterBatch(
  lake: Lake,
  tables: { path: string; actions: object[] }[],
): Promise<Map<string, Row[]>> {
  const rollUps: { table: string; months: Set<string>; snap: Snapshot }[] = [];
  for (const t of tables) {
    if (!FLEET_TABLES.includes(t.path)) continue;
    const months = monthsAdded(t.actions);
    // this table's version first, then the partials (see the header)
    if (months.size > 0) rollUps.push({ table: t.path, months, snap: await lake.table(t.path).snapshot() });
  }
  const partialsSnap = await lake.table(FLEET_PARTIALS.path).snapshot();
  const added = tables.find((t) => t.path === FLEET_PARTIALS.path);
  const fold = new Set(
    [...(added ? monthsAdded(added.actions) : [])].filter(
      (m) => partialsSnap.files.filter((f) => f.partitionValues.month === m).length > FOLD_AT,
    ),
  );
  const months = new Set([...fold, ...rollUps.flatMap((r) => [...r.months])]);
  const out = new Map<string, Row[]>();
  if (months.size === 0) return out;
  const partials = await sumFleetPartials(lake, months, partialsSnap);
  for (const r of rollUps)
    out.set(r.table, await rollUpFleet(lake, r.table, r.months, { snap: r.snap, partials }));
  await foldFleetPartials(lake, fold, partials);
  return out;
}

/**
 * Replaces the fleet rows of `months` in `table` (predictions or outcomes) with the sums of their
 * partials. Returns the fleet rows whose values changed (new ones included), for the predictions topic.
 * `first` is a read already made (the table's snapshot, then the partials of these months at least):
 * the first attempt uses it, one that lost a race reads both again.
 */
export async function rollUpFleet(
  lake: Lake,
  table: string,
  months: Set<string>,
  first?: { snap: Snapshot; partials: PartialsRead },
): Promise<Row[]> {
  const of = SOURCES[table];
  if (!of) throw new LakestreamError('INTERNAL', `table ${table} has no fleet rows`);
  if (months.size === 0) return [];
  const t = lake.table(table);
  const inMonths = (f: AddFile) => months.has(String(f.partitionValues.month));
  const isFleetFile = (f: AddFile) => inMonths(f) && fleetFile(f);
  // Fleet rows live in fleet-… files, unless a compaction merged them with meter rows: then the
  // file's meter_id range says it may hold them.
  const mayHold = (f: AddFile) => inMonths(f) && (fleetFile(f) || mayHoldFleet(f));
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // this table's version first, then the partials (see the header)
    const snap = attempt === 0 && first ? first.snap : await t.snapshot();
    const { sums } = attempt === 0 && first ? first.partials : await sumFleetPartials(lake, months);
    const rows = [...sums.values()]
      .filter((p) => p.source === of.source && months.has(p.month))
      .sort((a, b) => byCodePoint(a.kind, b.kind) || byCodePoint(a.month, b.month) || a.k - b.k)
      .map((p) => ({ meter_id: FLEET_ID, ...of.row(p) }));
    const held = snap.files.filter(mayHold);
    const before =
      held.length === 0
        ? []
        : await withDuck(async (conn) => {
            const from = await filesSelect(lake.store, snap, held);
            return (
              await conn.runAndReadAll(`SELECT * FROM (${from}) WHERE meter_id = '${FLEET_ID}'`)
            ).getRowObjectsJS() as Row[];
          });
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

/**
 * Folds the partials files of each of `months` into one when there are more than FOLD_AT: the same
 * exact sums per key, so readers get the same totals before and after. A fold that another fold
 * overtook (it removed the same files) is given up: that one did the work. With `read` (a read of
 * the partials of these months at least), the files and sums are that read's, not read again.
 */
export async function foldFleetPartials(
  lake: Lake,
  months: Set<string>,
  read?: PartialsRead,
): Promise<number> {
  const t = lake.table(FLEET_PARTIALS.path);
  let folded = 0;
  for (const month of [...months].sort()) {
    const inMonth = (f: AddFile) => f.partitionValues.month === month;
    if ((read?.files ?? (await t.snapshot()).files).filter(inMonth).length <= FOLD_AT) continue;
    const { sums, files } = read ?? (await sumFleetPartials(lake, new Set([month])));
    const adds = await prepareTableWrite(lake, {
      table: t,
      rows: [...sums.values()].filter((p) => p.month === month).map(partialRow),
      filePrefix: 'fold-',
    });
    const folding = files.filter(inMonth);
    const r = await t.commit([...folding.map((f) => removeFor(f)), ...adds] as Action[], {
      operation: 'FLEET PARTIALS FOLD',
      operationParameters: { month },
    });
    if (r.status === 'committed') folded += folding.length;
  }
  return folded;
}

function changed(before: Row[], after: Row[]): Row[] {
  const key = (r: Row) => `${r.kind}|${r.month}|${r.as_of_day}`;
  const old = new Map(before.map((r) => [key(r), r]));
  return after.filter((r) => {
    const o = old.get(key(r));
    return !o || Object.keys(r).some((c) => String(o[c]) !== String(r[c]));
  });
}
