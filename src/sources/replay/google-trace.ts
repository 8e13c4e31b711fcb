// Google cluster trace 2011 replay: task_events, job_events, task_usage and machine_events rows in
// trace-time order (shards merged by their first field, microseconds since the trace start).
// Each row goes out raw, to be parsed by the stream worker per schema.csv (and quarantined there
// with its file and line when it is malformed):
//   {"v":1,"table":"task_events","src":"part-00000-of-00500.csv.gz:17","row":"<the CSV line>"}
// keyed by job ID (machine ID for machine_events). Files named *_with_header start with a header.

import { TRACE_TABLES, type TraceTable } from '../../domain/cluster-trace/schema.ts';
import { LakestreamError } from '../../errors.ts';
import { type LineFile, lineText } from '../io/lines.ts';
import type { FileStats, SourceMessage } from '../source.ts';
import { utf8 } from '../source.ts';

/** The trace window opens 600 s after its clock starts; earlier rows describe the initial state. */
export const TRACE_WINDOW_START_MS = 600_000;

/** The table of a trace file from its path: its directory (task_events/part-…) or its name. */
export function traceTableOf(path: string): TraceTable {
  const t = TRACE_TABLES.find((name) => path.split(/[\\/]/).some((part) => part.startsWith(name)));
  if (!t)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `cannot tell the trace table of ${path}: its directory or name must start with one of ${TRACE_TABLES.join(', ')}`,
    );
  return t;
}

/** Columns of each table's rows (schema.csv). */
export const TRACE_COLUMNS: Record<TraceTable, number> = {
  task_events: 13,
  job_events: 8,
  task_usage: 20,
  machine_events: 6,
};

/** Column (0-based) of the key: job ID, or machine ID for machine_events. */
const KEY_COLUMN: Record<TraceTable, number> = {
  task_events: 2,
  job_events: 2,
  task_usage: 2,
  machine_events: 1,
};

function field(text: string, n: number): string {
  let start = 0;
  for (let i = 0; i < n; i++) {
    const c = text.indexOf(',', start);
    if (c === -1) return '';
    start = c + 1;
  }
  const end = text.indexOf(',', start);
  return text.slice(start, end === -1 ? text.length : end);
}

const DIGITS = /^\d{1,17}$/;

export function traceParser(table: TraceTable, path: string) {
  const header = /with_header/.test(path);
  const tableJson = JSON.stringify(table);
  return async function* parseTrace(file: LineFile, stats: FileStats): AsyncGenerator<SourceMessage[]> {
    let line = 0;
    let last: number | undefined;
    for await (const batch of file.batches()) {
      const out: SourceMessage[] = [];
      for (const raw of batch) {
        line++;
        if (header && line === 1) continue;
        const text = lineText(raw);
        if (text === '') continue;
        const first = field(text, 0);
        // rows whose timestamp cannot be read keep their place in the file (time of the row before)
        const time = DIGITS.test(first) ? Number(first) / 1000 : last;
        last = time;
        const key = field(text, KEY_COLUMN[table]);
        out.push({
          key: key === '' ? null : key,
          time,
          value: utf8(
            `{"v":1,"table":${tableJson},"src":${JSON.stringify(`${file.label}:${line}`)},"row":${JSON.stringify(text)}}`,
          ),
        });
      }
      stats.messages += out.length;
      if (out.length) yield out;
    }
  };
}
