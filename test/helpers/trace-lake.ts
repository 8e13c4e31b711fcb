// A trace lake for the batch view's tests: a real task_events shard (part-00001 of the Google 2011
// trace) replayed in two drained runs, so attempts open at the first drain end in the second, plus a
// small shard of the lifecycle fold's corner cases (tasks 9999101/0-6) streamed with the first half.

import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { cli, freshEngines, requireData } from './cli.ts';

/** The corner cases, one task each: time, job, task, machine, event type, cpu request (the rest fixed). */
const CORNERS: [number, number, number | '', number, number | ''][] = [
  // a repeated SUBMIT (counted, requests kept), an UPDATE raising the CPU, a FINISH naming no machine
  [100, 0, '', 0, 0.1],
  [100, 0, '', 0, 0.3],
  [200, 0, 7, 1, 0.1],
  [250, 0, 7, 8, 0.5],
  [300, 0, '', 4, 0.1],
  // no SUBMIT in the input: the attempt starts at its SCHEDULE
  [110, 1, 8, 1, 0.1],
  [120, 1, 8, 3, 0.1],
  // a SUBMIT while an attempt is open: that one is superseded
  [100, 2, '', 0, 0.1],
  [150, 2, '', 1, 0.1],
  [160, 2, '', 0, 0.2],
  [170, 2, 9, 1, 0.1],
  [180, 2, 10, 5, 0.1],
  // scheduled on no machine, evicted from one: the machine is the EVICT's
  [100, 3, '', 0, 0.1],
  [110, 3, '', 1, 0.1],
  [120, 3, 11, 2, 0.1],
  // an UPDATE with an empty CPU keeps it; a SUBMIT at the attempt's own time after it is a repeat
  [100, 4, '', 0, 0.1],
  [105, 4, '', 7, ''],
  [100, 4, '', 0, 0.9],
  // an event type the schema does not name: counted, nothing else
  [100, 6, '', 0, 0.1],
  [110, 6, '', 9, 0.1],
];
export const CORNER_JOB = 9999101;

/** Two attempts of task 9999101/5 starting at one µs: SUBMIT, FAIL, SUBMIT (left open), then its FINISH. */
const SHARED_KEY: (typeof CORNERS)[number][] = [
  [100, 5, '', 0, 0.1],
  [100, 5, 3, 3, 0.1],
  [100, 5, '', 0, 0.7],
];
const SHARED_KEY_END: (typeof CORNERS)[number] = [400, 5, 4, 4, ''];

const row = ([time, task, machine, type, cpu]: (typeof CORNERS)[number]) =>
  `${time},,${CORNER_JOB},${task},${machine},${type},u,1,2,${cpu},0.2,0.01,0`;

export interface TraceLake {
  dir: string;
  lake: string;
  /** --transport and --lake of the lake's engines, for a stream of one's own */
  flags: string[];
  /** writes these task_events lines to `name`, produces and drains them */
  replay(name: string, lines: string[]): Promise<void>;
  /** two more drained runs: task 9999101/5's two attempts sharing a key, then the open one's FINISH */
  sharedKeyAttempts(): Promise<void>;
}

export async function traceLake(): Promise<TraceLake> {
  const engines = await freshEngines();
  const input = createReadStream(
    requireData('cluster-trace/google-2011/task_events/part-00001-of-00500.csv.gz'),
  ).pipe(createGunzip());
  const lines: string[] = [];
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }))
    if (line) lines.push(line);
  const dir = join(engines.dir, 'task_events');
  await mkdir(dir);
  const half = Math.floor(lines.length / 2);
  const run = async (name: string, text: string[]) => {
    await writeFile(join(dir, name), `${text.join('\n')}\n`);
    await cli(['produce', '--source', 'google-2011', '--file', join(dir, name), ...engines.produceFlags]);
    await cli(['stream', '--workload', 'cluster-trace', '--drain', '--quiet', ...engines.flags]);
  };
  await run('part-a.csv', [...lines.slice(0, half), ...CORNERS.map(row)]);
  await run('part-b.csv', lines.slice(half));
  return {
    dir: engines.dir,
    lake: engines.lake,
    flags: engines.flags,
    replay: run,
    sharedKeyAttempts: async () => {
      await run('part-c.csv', SHARED_KEY.map(row));
      await run('part-d.csv', [row(SHARED_KEY_END)]);
    },
  };
}
