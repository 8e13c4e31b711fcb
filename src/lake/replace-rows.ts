// Replace rows by key, as a lake operation: a write's rows for one table turned into Delta actions —
// new data files, plus the copy-on-write rewrite of the files that hold keys the write re-emits
// (their other rows are kept). Nothing is committed here: the caller commits the actions (the
// stream with its txn, after its manifest).

import type { Action, AddFile } from './actions.ts';
import { withDuck } from './duck.ts';
import type { Lake } from './lake.ts';
import { type Row, writeDataFiles } from './parquet.ts';
import { quoteIdent } from './schema.ts';
import type { Snapshot } from './snapshot.ts';
import { filesSelect } from './sql.ts';
import type { DeltaTable } from './table.ts';
import { removeFor } from './transaction.ts';

export interface TableWrite {
  table: DeltaTable;
  rows: Row[];
  /** keys (values of keyColumns joined by '|') whose rows in the lake are replaced by `rows` */
  replaced?: Set<string>;
  keyColumns?: string[];
  /** narrows the files that may hold the replaced keys (beyond partition pruning); default all */
  mayHold?: (file: AddFile) => boolean;
  filePrefix: string;
}

/** The add (and remove) actions of one table's part of a batch; nothing is committed here. */
export async function prepareTableWrite(lake: Lake, w: TableWrite): Promise<Action[]> {
  const snapshot = await w.table.snapshot();
  let rows = w.rows;
  const removes: Action[] = [];
  if (w.replaced && w.replaced.size > 0 && w.keyColumns) {
    const kept = await rowsOutsideKeys(
      lake,
      snapshot,
      w.mayHold ? snapshot.files.filter(w.mayHold) : snapshot.files,
      w.keyColumns,
      w.replaced,
    );
    for (const f of kept.files) removes.push(removeFor(f));
    rows = [...kept.rows, ...rows];
  }
  const adds = await writeDataFiles({
    store: lake.store,
    table: w.table.path,
    schema: snapshot.schema,
    partitionColumns: snapshot.partitionColumns,
    rows,
    prefix: w.filePrefix,
  });
  return [...removes, ...adds.map((add) => ({ add }))];
}

/**
 * Finds the live files holding any of `keys` and returns them with their rows that are NOT under
 * those keys. Partition columns are not stored in the files: each file's value is put back.
 */
async function rowsOutsideKeys(
  lake: Lake,
  snapshot: Snapshot,
  files: readonly AddFile[],
  keyColumns: string[],
  keys: Set<string>,
): Promise<{ files: AddFile[]; rows: Row[] }> {
  const partitionColumns = snapshot.partitionColumns;
  // Prune by partition value: every key part that is (or starts with) a file's partition value
  // (month 'YYYY-MM' of a day 'YYYY-MM-DD') may be in it; other files cannot hold the key.
  const keyParts = [...keys].map((k) => k.split('|'));
  const candidates = files.filter((f) =>
    partitionColumns.every((pc) => {
      const v = f.partitionValues[pc];
      return v === null || keyParts.some((kp) => kp.some((part) => part.startsWith(v)));
    }),
  );
  if (candidates.length === 0) return { files: [], rows: [] };
  const keyOf = (row: Row) => keyColumns.map((c) => String(row[c])).join('|');
  const out: { files: AddFile[]; rows: Row[] } = { files: [], rows: [] };
  await withDuck(async (conn) => {
    const fileCols = keyColumns.filter((c) => !partitionColumns.includes(c));
    for (const f of candidates) {
      // Read as the table sees the file: rows a deletion vector deleted are not kept.
      const from = `(${await filesSelect(lake.store, snapshot, [f])})`;
      const res = await conn.runAndReadAll(
        `SELECT DISTINCT ${fileCols.map(quoteIdent).join(', ')} FROM ${from}`,
      );
      const hit = (res.getRowObjectsJS() as Row[]).some((r) => {
        for (const pc of partitionColumns) r[pc] = f.partitionValues[pc];
        return keys.has(keyOf(r));
      });
      if (!hit) continue;
      out.files.push(f);
      const exclude =
        partitionColumns.length > 0 ? ` EXCLUDE (${partitionColumns.map(quoteIdent).join(', ')})` : '';
      const all = await conn.runAndReadAll(`SELECT *${exclude} FROM ${from}`);
      for (const row of all.getRowObjectsJS() as Row[]) {
        for (const pc of partitionColumns) row[pc] = f.partitionValues[pc];
        if (!keys.has(keyOf(row))) out.rows.push(row);
      }
    }
  });
  return out;
}
