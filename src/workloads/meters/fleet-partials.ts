// What a batch's meter rows add to the fleet rows: one row of the fleet partials table
// (FLEET_PARTIALS) per (source, kind, month, as_of_day) the batch touched, appended with the batch's
// other rows and under the same txn, so exactly-once covers it. The processor adds each meter
// row's values as it emits it (and, for an outcome re-emitted after a late reading, the change of
// its actual total); the fleet rows are the sums of these rows (fleet.ts), exact so the order of
// batches, partitions and workers does not matter.
// No state: the partials of a batch live only as long as its outputs.

import { FLEET_PARTIALS } from '../../domain/meters/tables.ts';
import type { BatchOutputs, Row } from '../../stream/outputs.ts';
import { add, type ExactSum, exact, toText, ZERO } from './exact-sum.ts';

export type FleetSource = 'predictions' | 'outcomes';

/** A key's sums so far; `second` is observed_to_date (predictions) or actual_total (outcomes). */
export interface FleetPartial {
  source: FleetSource;
  kind: string;
  month: string;
  k: number;
  predicted: ExactSum;
  second: ExactSum;
  version: number;
  /** ms, predictions only */
  predictedAt: number | null;
}

export const partialKey = (source: string, kind: string, month: string, k: number) =>
  `${source}|${kind}|${month}|${k}`;

/** The batch's partials by key; the batch's outputs hold their rows (the same objects, read when written). */
const byBatch = new WeakMap<BatchOutputs, Map<string, FleetPartial>>();

/**
 * Adds `predicted` and `second` (numbers, or exact changes) to the key's partial of this batch,
 * appending the key's row to `out` the first time.
 */
export function addToFleet(
  out: BatchOutputs,
  source: FleetSource,
  kind: string,
  month: string,
  k: number,
  predicted: number | ExactSum,
  second: number | ExactSum,
  version: number,
  predictedAt: number | null,
): void {
  let batch = byBatch.get(out);
  if (!batch) {
    batch = new Map();
    byBatch.set(out, batch);
  }
  const key = partialKey(source, kind, month, k);
  let p = batch.get(key);
  if (!p) {
    p = { source, kind, month, k, predicted: ZERO, second: ZERO, version, predictedAt };
    batch.set(key, p);
    out.append(FLEET_PARTIALS.path, partialRow(p));
  }
  accumulate(
    p,
    typeof predicted === 'number' ? exact(predicted) : predicted,
    typeof second === 'number' ? exact(second) : second,
    version,
    predictedAt,
  );
}

/** Adds values to a partial: the sums exactly, the newest model version and prediction time. */
export function accumulate(
  p: FleetPartial,
  predicted: ExactSum,
  second: ExactSum,
  version: number,
  predictedAt: number | null,
): void {
  p.predicted = add(p.predicted, predicted);
  p.second = add(p.second, second);
  p.version = Math.max(p.version, version);
  if (predictedAt !== null) p.predictedAt = Math.max(p.predictedAt ?? predictedAt, predictedAt);
}

/** A partial as a row of FLEET_PARTIALS: its values read when the batch's files are written. */
export function partialRow(p: FleetPartial): Row {
  const second = p.source === 'predictions' ? 'observed_to_date' : 'actual_total';
  const other = p.source === 'predictions' ? 'actual_total' : 'observed_to_date';
  const row: Row = { source: p.source, kind: p.kind, as_of_day: p.k, month: p.month, [other]: null };
  return Object.defineProperties(row, {
    predicted_total: { enumerable: true, get: () => toText(p.predicted) },
    [second]: { enumerable: true, get: () => toText(p.second) },
    model_version: { enumerable: true, get: () => p.version },
    predicted_at: { enumerable: true, get: () => p.predictedAt },
  });
}
