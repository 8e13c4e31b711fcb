// The Google 2011 trace as one source: every file's table told from its path, shards merged by time.

import { TOPICS } from '../../domain/topics.ts';
import { checkTraceFile } from '../check-format.ts';
import type { LineFile } from '../io/lines.ts';
import type { FileStats, Source } from '../source.ts';
import { TRACE_COLUMNS, TRACE_WINDOW_START_MS, traceParser, traceTableOf } from './google-trace.ts';
import { replaySource } from './replay-source.ts';

export async function parseGoogleTrace(paths: string[], order: 'merge' | 'file'): Promise<Source> {
  const parsers = new Map(paths.map((p) => [p, traceParser(traceTableOf(p), p)]));
  return replaySource({
    name: 'google-2011',
    topic: TOPICS.traceEvents,
    paths,
    order,
    clockStart: TRACE_WINDOW_START_MS,
    check: (file) =>
      checkTraceFile(file, TRACE_COLUMNS[traceTableOf(file.path)], /with_header/.test(file.path)),
    // shards of different tables share names (part-00000-of-00500.csv.gz)
    statsLabel: (file) => `${traceTableOf(file.path)}: ${file.label}`,
    parse: (file: LineFile, stats: FileStats) => parsers.get(file.path)!(file, stats),
  });
}
