// The cluster-trace workload's Delta tables: bronze (one per trace table, partitioned by trace
// hour), quarantine, silver task lifecycles and machine capacity, gold task classes and windows.
//
// Times are trace microseconds (long), as the trace gives them; `hour` = floor(time / 3.6e9).

import type { Field } from '../../lake/index.ts';
import { deltaTypeOf, TRACE_SCHEMA, type TraceTable } from './schema.ts';

type Col = Pick<Field, 'name' | 'type' | 'nullable'>;
export interface TraceTableSpec {
  path: string;
  schema: Col[];
  partitionColumns: string[];
  description: string;
  keyColumns?: string[];
}

const ROOT = 'cluster-trace';

function bronze(table: TraceTable): TraceTableSpec {
  return {
    path: `${ROOT}/bronze/${table}`,
    description: `every accepted ${table} row of the trace as published, typed per schema.csv, partitioned by trace hour`,
    partitionColumns: ['hour'],
    schema: [
      ...TRACE_SCHEMA[table].map((col) => ({
        name: col.name,
        type: deltaTypeOf(col.format),
        nullable: !col.mandatory,
      })),
      { name: 'src', type: 'string' },
      { name: 'partition', type: 'integer' },
      { name: 'offset', type: 'long' },
      { name: 'hour', type: 'integer', nullable: false },
    ],
  };
}

export const TRACE_LAKE_TABLES = {
  taskEvents: bronze('task_events'),
  jobEvents: bronze('job_events'),
  taskUsage: bronze('task_usage'),
  machineEvents: bronze('machine_events'),
  quarantine: {
    path: `${ROOT}/quarantine/events`,
    description: 'rejected messages: the reason, the trace table, the source file:line and the raw row',
    partitionColumns: [],
    schema: [
      { name: 'reason', type: 'string', nullable: false },
      { name: 'detail', type: 'string' },
      { name: 'trace_table', type: 'string' },
      { name: 'src', type: 'string' },
      { name: 'raw', type: 'string' },
      { name: 'partition', type: 'integer' },
      { name: 'offset', type: 'long' },
    ],
  },
  lifecycles: {
    path: `${ROOT}/silver/task_lifecycles`,
    description:
      'one row per task attempt (SUBMIT → SCHEDULE → FINISH/FAIL/KILL/EVICT/LOST): written when it ends; ' +
      'attempts still running at the end of a drained input are written with outcome "open" and replaced when they end',
    partitionColumns: [],
    keyColumns: ['job_id', 'task_index', 'first_time'],
    schema: [
      { name: 'job_id', type: 'long', nullable: false },
      { name: 'task_index', type: 'long', nullable: false },
      { name: 'first_time', type: 'long', nullable: false }, // time of the attempt's first event (its key)
      { name: 'submit_time', type: 'long' }, // null: the SUBMIT is not in the replayed input
      { name: 'schedule_time', type: 'long' },
      { name: 'end_time', type: 'long' },
      { name: 'outcome', type: 'string', nullable: false }, // FINISH FAIL KILL EVICT LOST | open | superseded
      { name: 'machine_id', type: 'long' },
      { name: 'wait_s', type: 'double' }, // submit → schedule
      { name: 'run_s', type: 'double' }, // schedule → end
      { name: 'total_s', type: 'double' }, // submit → end
      { name: 'cpu_request', type: 'double' },
      { name: 'memory_request', type: 'double' },
      { name: 'disk_request', type: 'double' },
      { name: 'priority', type: 'integer' },
      { name: 'scheduling_class', type: 'integer' },
      { name: 'class', type: 'integer' }, // the speed layer's class at SUBMIT
      { name: 'n_events', type: 'integer', nullable: false }, // task events folded into this attempt
    ],
  },
  machineCapacity: {
    path: `${ROOT}/silver/machine_capacity`,
    description:
      'each machine event with the machine capacity after it and the change to the cluster total ' +
      '(cluster capacity at t = sum of delta_* up to t)',
    partitionColumns: [],
    schema: [
      { name: 'time', type: 'long', nullable: false },
      { name: 'machine_id', type: 'long', nullable: false },
      { name: 'event', type: 'string', nullable: false }, // ADD REMOVE UPDATE
      { name: 'platform_id', type: 'string' },
      { name: 'cpus', type: 'double' }, // null once removed
      { name: 'memory', type: 'double' },
      { name: 'delta_cpus', type: 'double', nullable: false },
      { name: 'delta_memory', type: 'double', nullable: false },
    ],
  },
  taskClasses: {
    path: `${ROOT}/gold/task_classes`,
    description:
      'speed layer: the GMM class of every SUBMIT on arrival (class -1, probability null before any model is registered)',
    partitionColumns: ['hour'],
    schema: [
      { name: 'job_id', type: 'long', nullable: false },
      { name: 'task_index', type: 'long', nullable: false },
      { name: 'submit_time', type: 'long', nullable: false },
      { name: 'class', type: 'integer', nullable: false },
      { name: 'probability', type: 'double' },
      { name: 'model_version', type: 'integer' },
      { name: 'cpu_request', type: 'double' },
      { name: 'memory_request', type: 'double' },
      { name: 'disk_request', type: 'double' },
      { name: 'priority', type: 'integer' },
      { name: 'scheduling_class', type: 'integer' },
      { name: 'imputed', type: 'boolean', nullable: false }, // an empty request was filled with the model's typical value
      { name: 'placement_hint', type: 'string' },
      { name: 'hour', type: 'integer', nullable: false },
    ],
  },
  classWindows: {
    path: `${ROOT}/gold/class_windows`,
    description:
      'speed layer: per trace minute and class, counts and requested resources. Additive: several rows ' +
      'may hold one (minute, class) (one per partition, plus late corrections) — read with SUM … GROUP BY',
    partitionColumns: ['hour'],
    schema: [
      { name: 'minute', type: 'long', nullable: false }, // floor(time / 60e6)
      { name: 'class', type: 'integer', nullable: false },
      { name: 'partition', type: 'integer', nullable: false },
      { name: 'arrivals', type: 'long', nullable: false },
      { name: 'cpu_requested', type: 'double', nullable: false },
      { name: 'memory_requested', type: 'double', nullable: false },
      { name: 'disk_requested', type: 'double', nullable: false },
      { name: 'scheduled', type: 'long', nullable: false },
      { name: 'finished', type: 'long', nullable: false },
      { name: 'failed', type: 'long', nullable: false },
      { name: 'killed', type: 'long', nullable: false },
      { name: 'evicted', type: 'long', nullable: false },
      { name: 'lost', type: 'long', nullable: false },
      { name: 'hour', type: 'integer', nullable: false },
    ],
  },
} as const satisfies Record<string, TraceTableSpec>;

export const BRONZE_PATH: Record<TraceTable, string> = {
  task_events: TRACE_LAKE_TABLES.taskEvents.path,
  job_events: TRACE_LAKE_TABLES.jobEvents.path,
  task_usage: TRACE_LAKE_TABLES.taskUsage.path,
  machine_events: TRACE_LAKE_TABLES.machineEvents.path,
};
