// Arrow IPC from ExecutePlan into one apache-arrow Table: each arrow_batch is a whole IPC stream (its
// own schema message, then record batches); the Table is their batches under the first schema.

import { type RecordBatch, type Schema, Table, tableFromIPC } from 'apache-arrow';
import type { ExecutePlanResponse } from './gen/spark/connect/base_pb.js';

export async function tableFrom(responses: AsyncIterable<ExecutePlanResponse>): Promise<Table> {
  let schema: Schema | undefined;
  const batches: RecordBatch[] = [];
  for await (const r of responses) {
    if (r.responseType.case !== 'arrowBatch') continue;
    const part = tableFromIPC(r.responseType.value.data);
    schema ??= part.schema;
    batches.push(...part.batches);
  }
  // Spark sends at least one batch, if empty; a command with no output may send none
  return schema ? new Table(schema, batches) : new Table();
}
