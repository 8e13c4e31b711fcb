// A replay source over files: each file parsed by a row parser, then put in event-time order.

import { LakestreamError } from '../../errors.ts';
import { type LineFile, openLineFiles } from '../io/lines.ts';
import { mergeByTime, sortByTime } from '../order.ts';
import type { FileStats, Source, SourceMessage } from '../source.ts';

/** Per-meter state shared by the files of one replay, so a meter's seq goes on across files. */
export interface MeterReplayState {
  seq: number;
  /** water: wall time (as UTC ms) of the last read in a repeated DST hour, and whether past its fold */
  foldLocal?: number;
  folded?: boolean;
}
export type ReplayState = Map<string, MeterReplayState>;

/** The state of a meter, created on first sight. */
export function meterState(state: ReplayState, id: string): MeterReplayState {
  let st = state.get(id);
  if (!st) {
    st = { seq: 0 };
    state.set(id, st);
  }
  return st;
}

/** Turns one file's line batches into message batches, counting into `stats`. */
export type FileParser = (
  file: LineFile,
  stats: FileStats,
  state: ReplayState,
) => AsyncIterable<SourceMessage[]>;

export type ReplayOrder =
  /** sort all rows by event time (files grouped by meter become a fleet reporting together) */
  | 'time'
  /** merge files that are each in time order (trace shards) */
  | 'merge'
  /** file order, files one after another */
  | 'file';

export interface ReplayOptions {
  name: string;
  topic: string;
  paths: string[];
  parse: FileParser;
  order: ReplayOrder;
  clockStart?: number;
  tmpDir?: string;
  /** checks each file's format before anything is read for sending (src/sources/check-format.ts) */
  check?: (file: LineFile) => Promise<void>;
  /** how the summary names a file (default its label) */
  statsLabel?: (file: LineFile) => string;
}

export async function replaySource(o: ReplayOptions): Promise<Source> {
  if (o.paths.length === 0) throw new LakestreamError('BAD_ARGUMENT', `--source ${o.name} needs --file PATH`);
  const files: LineFile[] = [];
  for (const p of o.paths) files.push(...(await openLineFiles(p)));
  if (files.length === 0) throw new LakestreamError('BAD_INPUT', `no data file in ${o.paths.join(', ')}`);
  // the check reads files of its own: a zip's entries can be opened once per handle
  if (o.check) for (const p of o.paths) for (const f of await openLineFiles(p)) await o.check(f);
  const stats: FileStats[] = files.map((f) => ({
    label: o.statsLabel?.(f) ?? f.label,
    messages: 0,
    unparsed: 0,
    skipped: 0,
  }));
  const parsed = () => {
    const state: ReplayState = new Map();
    return files.map((f, i) => o.parse(f, stats[i], state));
  };
  // a time-ordered replay reads every file before its first send; from then on the count is known
  let total: number | undefined;
  return {
    name: o.name,
    topic: o.topic,
    get total() {
      return total;
    },
    clockStart: o.clockStart,
    fraction: () => files.reduce((s, f) => s + f.fraction(), 0) / files.length,
    stats: () => stats,
    batches() {
      if (o.order === 'merge') return mergeByTime(parsed());
      if (o.order === 'time')
        return sortByTime(concat(parsed()), { tmpDir: o.tmpDir, onSorted: (n) => (total = n) });
      return concat(parsed());
    },
  };
}

async function* concat<T>(inputs: AsyncIterable<T>[]): AsyncGenerator<T> {
  for (const i of inputs) yield* i;
}
