// The trace's own schema (schema.csv of clusterdata-2011-2) for the four replayed tables, and the
// parser of one headerless CSV row into typed columns — or the reason it is malformed.

import type { DeltaType } from '../../lake/index.ts';

/** The trace tables lakestream replays (the published trace has more). */
export const TRACE_TABLES = ['task_events', 'job_events', 'task_usage', 'machine_events'] as const;
export type TraceTable = (typeof TRACE_TABLES)[number];

/** schema.csv formats: INTEGER, FLOAT, STRING_HASH, BOOLEAN (0/1). */
export type TraceFormat = 'INTEGER' | 'FLOAT' | 'STRING_HASH' | 'BOOLEAN';

export interface TraceColumn {
  /** the lake column name */
  name: string;
  /** schema.csv "content" */
  content: string;
  format: TraceFormat;
  mandatory: boolean;
}

const c = (name: string, content: string, format: TraceFormat, mandatory = false): TraceColumn => ({
  name,
  content,
  format,
  mandatory,
});

/** Field order, names and formats exactly as schema.csv lists them (checked by schema.test.ts). */
export const TRACE_SCHEMA: Record<TraceTable, TraceColumn[]> = {
  job_events: [
    c('time', 'time', 'INTEGER', true),
    c('missing_info', 'missing info', 'INTEGER'),
    c('job_id', 'job ID', 'INTEGER', true),
    c('event_type', 'event type', 'INTEGER', true),
    c('user', 'user', 'STRING_HASH'),
    c('scheduling_class', 'scheduling class', 'INTEGER'),
    c('job_name', 'job name', 'STRING_HASH'),
    c('logical_job_name', 'logical job name', 'STRING_HASH'),
  ],
  task_events: [
    c('time', 'time', 'INTEGER', true),
    c('missing_info', 'missing info', 'INTEGER'),
    c('job_id', 'job ID', 'INTEGER', true),
    c('task_index', 'task index', 'INTEGER', true),
    c('machine_id', 'machine ID', 'INTEGER'),
    c('event_type', 'event type', 'INTEGER', true),
    c('user', 'user', 'STRING_HASH'),
    c('scheduling_class', 'scheduling class', 'INTEGER'),
    c('priority', 'priority', 'INTEGER', true),
    c('cpu_request', 'CPU request', 'FLOAT'),
    c('memory_request', 'memory request', 'FLOAT'),
    c('disk_request', 'disk space request', 'FLOAT'),
    c('different_machines', 'different machines restriction', 'BOOLEAN'),
  ],
  machine_events: [
    c('time', 'time', 'INTEGER', true),
    c('machine_id', 'machine ID', 'INTEGER', true),
    c('event_type', 'event type', 'INTEGER', true),
    c('platform_id', 'platform ID', 'STRING_HASH'),
    c('cpus', 'CPUs', 'FLOAT'),
    c('memory', 'Memory', 'FLOAT'),
  ],
  task_usage: [
    c('start_time', 'start time', 'INTEGER', true),
    c('end_time', 'end time', 'INTEGER', true),
    c('job_id', 'job ID', 'INTEGER', true),
    c('task_index', 'task index', 'INTEGER', true),
    c('machine_id', 'machine ID', 'INTEGER', true),
    c('cpu_rate', 'CPU rate', 'FLOAT'),
    c('canonical_memory', 'canonical memory usage', 'FLOAT'),
    c('assigned_memory', 'assigned memory usage', 'FLOAT'),
    c('unmapped_page_cache', 'unmapped page cache', 'FLOAT'),
    c('total_page_cache', 'total page cache', 'FLOAT'),
    c('max_memory', 'maximum memory usage', 'FLOAT'),
    c('disk_io_time', 'disk I/O time', 'FLOAT'),
    c('local_disk_space', 'local disk space usage', 'FLOAT'),
    c('max_cpu_rate', 'maximum CPU rate', 'FLOAT'),
    c('max_disk_io_time', 'maximum disk IO time', 'FLOAT'),
    c('cpi', 'cycles per instruction', 'FLOAT'),
    c('mai', 'memory accesses per instruction', 'FLOAT'),
    c('sample_portion', 'sample portion', 'FLOAT'),
    c('aggregation_type', 'aggregation type', 'BOOLEAN'),
    c('sampled_cpu_usage', 'sampled CPU usage', 'FLOAT'),
  ],
};

/** The Delta type of a trace format. */
export function deltaTypeOf(f: TraceFormat): DeltaType {
  return f === 'INTEGER' ? 'long' : f === 'FLOAT' ? 'double' : f === 'BOOLEAN' ? 'boolean' : 'string';
}

export type TraceValue = number | string | boolean | null;
export type ParsedRow =
  | { ok: true; values: TraceValue[] }
  | { ok: false; reason: 'column-count' | 'bad-field' | 'missing-field'; detail: string };

const INTEGER = /^-?\d{1,17}$/;
const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Parses one CSV line per the table's schema: empty optional fields are null, anything else must match its format. */
export function parseTraceRow(table: TraceTable, line: string): ParsedRow {
  const cols = TRACE_SCHEMA[table];
  const fields = line.split(',');
  // the 2011 trace publishes task_usage without its last column in some shards
  const okCount =
    fields.length === cols.length || (table === 'task_usage' && fields.length === cols.length - 1);
  if (!okCount)
    return {
      ok: false,
      reason: 'column-count',
      detail: `${table} rows have ${cols.length} fields, this one has ${fields.length}`,
    };
  const values: TraceValue[] = new Array(cols.length).fill(null);
  for (let i = 0; i < fields.length; i++) {
    const s = fields[i];
    const col = cols[i];
    if (s === '') {
      if (col.mandatory)
        return {
          ok: false,
          reason: 'missing-field',
          detail: `field ${i + 1} (${col.content}) is mandatory and empty`,
        };
      continue;
    }
    switch (col.format) {
      case 'INTEGER':
        if (!INTEGER.test(s)) return badField(i, col, s, 'an integer');
        values[i] = Number(s);
        break;
      case 'FLOAT':
        if (!FLOAT.test(s)) return badField(i, col, s, 'a number');
        values[i] = Number(s);
        break;
      case 'BOOLEAN':
        if (s !== '0' && s !== '1') return badField(i, col, s, '0 or 1');
        values[i] = s === '1';
        break;
      default:
        values[i] = s;
    }
  }
  return { ok: true, values };
}

function badField(i: number, col: TraceColumn, s: string, what: string): ParsedRow {
  return {
    ok: false,
    reason: 'bad-field',
    detail: `field ${i + 1} (${col.content}) should be ${what}, is "${s.slice(0, 40)}"`,
  };
}

/** Task event types (schema: "event type" of task_events). */
export const TASK_EVENT = {
  SUBMIT: 0,
  SCHEDULE: 1,
  EVICT: 2,
  FAIL: 3,
  FINISH: 4,
  KILL: 5,
  LOST: 6,
  UPDATE_PENDING: 7,
  UPDATE_RUNNING: 8,
} as const;

export const TASK_EVENT_NAMES = [
  'SUBMIT',
  'SCHEDULE',
  'EVICT',
  'FAIL',
  'FINISH',
  'KILL',
  'LOST',
  'UPDATE_PENDING',
  'UPDATE_RUNNING',
] as const;

/** Machine event types: ADD, REMOVE, UPDATE. */
export const MACHINE_EVENT_NAMES = ['ADD', 'REMOVE', 'UPDATE'] as const;

export const US_PER_HOUR = 3_600_000_000;
export const US_PER_MINUTE = 60_000_000;
