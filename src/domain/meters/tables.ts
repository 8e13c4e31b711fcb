// The meters workload's Delta tables: paths, schemas, partitioning. Every reader and writer uses these.
//
// Days and months are the meter's LOCAL calendar ('YYYY-MM-DD', 'YYYY-MM'); `ts` columns are UTC instants.
// The fleet total is stored as rows whose meter_id is FLEET_ID (one per kind and day / month).

import type { Field } from '../../lake/index.ts';

export const FLEET_ID = '__fleet__';

type Col = Pick<Field, 'name' | 'type' | 'nullable'>;
interface Spec {
  path: string;
  schema: Col[];
  partitionColumns: string[];
  description: string;
}

export const METER_TABLES = {
  bronze: {
    path: 'meters/bronze/readings',
    description: 'raw accepted readings, one row per (meter_id, ts), partitioned by local day',
    partitionColumns: ['day'],
    schema: [
      { name: 'meter_id', type: 'string', nullable: false },
      { name: 'kind', type: 'string', nullable: false },
      { name: 'ts', type: 'timestamp', nullable: false },
      { name: 'value', type: 'double', nullable: false },
      { name: 'unit', type: 'string', nullable: false },
      { name: 'type', type: 'string', nullable: false },
      { name: 'seq', type: 'long' },
      { name: 'tz', type: 'string' },
      { name: 'src', type: 'string' },
      { name: 'topic', type: 'string' },
      { name: 'partition', type: 'integer' },
      { name: 'offset', type: 'long' },
      { name: 'ingested_at', type: 'timestamp' },
      { name: 'day', type: 'string', nullable: false },
    ],
  },
  quarantine: {
    path: 'meters/quarantine/readings',
    description: 'rejected messages with the reason, the raw bytes and the source position',
    partitionColumns: ['day'],
    schema: [
      { name: 'reason', type: 'string', nullable: false },
      { name: 'detail', type: 'string' },
      { name: 'meter_id', type: 'string' },
      { name: 'raw', type: 'binary' },
      { name: 'raw_text', type: 'string' },
      { name: 'src', type: 'string' },
      { name: 'topic', type: 'string' },
      { name: 'partition', type: 'integer' },
      { name: 'offset', type: 'long' },
      { name: 'quarantined_at', type: 'timestamp' },
      { name: 'day', type: 'string', nullable: false },
    ],
  },
  silver: {
    path: 'meters/silver/readings',
    description: 'hourly consumption per meter: cleaned, deduplicated, resampled, enriched',
    partitionColumns: ['month'],
    schema: [
      { name: 'meter_id', type: 'string', nullable: false },
      { name: 'kind', type: 'string', nullable: false },
      { name: 'hour', type: 'timestamp', nullable: false }, // start of the hour, UTC
      { name: 'value', type: 'double', nullable: false }, // consumption in the hour (kWh or L)
      { name: 'unit', type: 'string', nullable: false },
      { name: 'n_readings', type: 'integer', nullable: false },
      { name: 'day', type: 'string', nullable: false },
      { name: 'local_hour', type: 'integer', nullable: false },
      { name: 'weekday', type: 'integer', nullable: false }, // 0 = Sunday
      { name: 'is_holiday', type: 'boolean', nullable: true }, // null: the meter's holiday calendar is unknown
      { name: 'tariff', type: 'string' },
      { name: 'acorn', type: 'string' },
      { name: 'acorn_group', type: 'string' },
      { name: 'sample', type: 'boolean', nullable: false },
      { name: 'month', type: 'string', nullable: false },
    ],
  },
  daily: {
    path: 'meters/gold/daily',
    description: 'consumption per meter (and the fleet) per local day, with completeness',
    partitionColumns: ['month'],
    schema: [
      { name: 'meter_id', type: 'string', nullable: false },
      { name: 'kind', type: 'string', nullable: false },
      { name: 'day', type: 'string', nullable: false },
      { name: 'value', type: 'double', nullable: false },
      { name: 'unit', type: 'string', nullable: false },
      { name: 'n_readings', type: 'integer', nullable: false },
      { name: 'expected_readings', type: 'integer', nullable: false },
      { name: 'complete', type: 'boolean', nullable: false }, // every expected reading arrived
      { name: 'closed', type: 'boolean', nullable: false }, // the watermark passed the day; false = written at drain, still open
      { name: 'tariff', type: 'string' },
      { name: 'acorn_group', type: 'string' },
      { name: 'month', type: 'string', nullable: false },
    ],
  },
  monthly: {
    path: 'meters/gold/monthly',
    description: 'consumption per meter (and the fleet) per local month',
    partitionColumns: ['month'],
    schema: [
      { name: 'meter_id', type: 'string', nullable: false },
      { name: 'kind', type: 'string', nullable: false },
      { name: 'value', type: 'double', nullable: false },
      { name: 'unit', type: 'string', nullable: false },
      { name: 'days_with_data', type: 'integer', nullable: false },
      { name: 'complete_days', type: 'integer', nullable: false },
      { name: 'days_in_month', type: 'integer', nullable: false },
      { name: 'complete', type: 'boolean', nullable: false },
      { name: 'closed', type: 'boolean', nullable: false },
      { name: 'month', type: 'string', nullable: false },
    ],
  },
  predictions: {
    path: 'meters/gold/predictions',
    description: "each day k >= 3 of a month: the month's predicted total per meter and for the fleet",
    partitionColumns: ['month'],
    schema: [
      { name: 'meter_id', type: 'string', nullable: false },
      { name: 'kind', type: 'string', nullable: false },
      { name: 'as_of_day', type: 'integer', nullable: false },
      { name: 'predicted_total', type: 'double', nullable: false },
      { name: 'observed_to_date', type: 'double', nullable: false },
      { name: 'model_version', type: 'integer', nullable: false },
      { name: 'predicted_at', type: 'timestamp', nullable: false },
      { name: 'month', type: 'string', nullable: false },
    ],
  },
  outcomes: {
    path: 'meters/gold/prediction_outcomes',
    description: 'at month close: the actual total and the error of every as_of_day prediction',
    partitionColumns: ['month'],
    schema: [
      { name: 'meter_id', type: 'string', nullable: false },
      { name: 'kind', type: 'string', nullable: false },
      { name: 'as_of_day', type: 'integer', nullable: false },
      { name: 'predicted_total', type: 'double', nullable: false },
      { name: 'actual_total', type: 'double', nullable: false },
      { name: 'error', type: 'double', nullable: false }, // predicted - actual
      { name: 'ape', type: 'double' }, // |error| / actual * 100, null when actual is 0
      { name: 'model_version', type: 'integer', nullable: false },
      { name: 'month', type: 'string', nullable: false },
    ],
  },
} as const satisfies Record<string, Spec>;

/**
 * The fleet rows' partial sums (workloads/meters/fleet.ts): each batch appends, with its other
 * tables and under the same txn, what its meter rows of predictions and prediction_outcomes added
 * to each (source, kind, month, as_of_day); the fleet row of a key is the sum of its rows here.
 * Sums are exact (`<hex>p<exp>`, exact-sum.ts) so they can be added in any order, folded, and a
 * replaced outcome subtracted. Not under meters/: its rows depend on how batches fell, not only on
 * the readings (tables under meters/ are the same whatever the batching).
 */
export const FLEET_PARTIALS = {
  path: 'stream/meters_fleet_partials',
  description: "partial sums of the meters' fleet rows, per batch (folded now and then)",
  partitionColumns: ['month'],
  schema: [
    { name: 'source', type: 'string', nullable: false }, // 'predictions' | 'outcomes'
    { name: 'kind', type: 'string', nullable: false },
    { name: 'as_of_day', type: 'integer', nullable: false },
    { name: 'predicted_total', type: 'string', nullable: false }, // exact sums
    { name: 'observed_to_date', type: 'string' }, // predictions only
    { name: 'actual_total', type: 'string' }, // outcomes only
    { name: 'model_version', type: 'integer', nullable: false }, // the largest
    { name: 'predicted_at', type: 'timestamp' }, // predictions only: the latest
    { name: 'month', type: 'string', nullable: false },
  ],
} as const satisfies Spec;
