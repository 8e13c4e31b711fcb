// The Delta Lake layer's public API: Lake, DeltaTable, snapshots, typed actions, replace-rows-by-key
// writes, SQL views over tables. Everything outside src/lake/ imports from here (test/layering.test.ts).

export type { Action, AddFile, MetadataAction, ProtocolAction, RemoveFile, TxnAction } from './actions.ts';
export {
  configureDuck,
  connectDuck,
  type DuckSettings,
  duckMemoryBytes,
  duckMemoryLimitBytes,
  getDuck,
  partsWithin,
  readDuckSettings,
  withDuck,
} from './duck.ts';
export { type ImportProgress, type ImportResult, importCsv } from './import.ts';
export { Lake, type QueryResult } from './lake.ts';
export { planCompaction } from './maintenance.ts';
export { copyToDir, type Row, uploadDataFiles } from './parquet.ts';
export { prepareTableWrite, type TableWrite } from './replace-rows.ts';
export { type DeltaType, type Field, sameSchema, type TableSpec, toSchemaString } from './schema.ts';
export { type FileStats, liveRecords, parseStats, Snapshot } from './snapshot.ts';
export { createSnapshotView, dataFileLocalPath, filesSelect, viewNameOf } from './sql.ts';
export {
  CHECKPOINT_INTERVAL,
  type CommitResult,
  DeltaTable,
  type HistoryEntry,
  type WriteOptions,
} from './table.ts';
export { backoff, removeFor } from './transaction.ts';
