// A small real lake for the engine conformance suite, built the way a user builds one: London readings
// (with a few bad messages, so quarantine has rows) and a slice of the Google trace, each produced and
// streamed with --drain; then, for HDFS, the same files copied into a lake on the local cluster.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../src/storage/index.ts';
import { cli, freshEngines, requireData } from './cli.ts';

const LONDON = 'meters/london/halfhourly_2013_20_households.csv.gz';
const TRACE = 'cluster-trace/google-2011';

/** Messages the meters worker quarantines, one reason each. */
const BAD = [
  '{"v":1,"meter_id":"BAD-1",',
  'not json at all',
  JSON.stringify({
    v: 1,
    meter_id: 'BAD-1',
    kind: 'electricity',
    ts: '2013-02-01T00:00:00Z',
    value: -0.5,
    unit: 'kWh',
    type: 'interval',
    seq: 1,
  }),
  JSON.stringify({
    v: 1,
    meter_id: 'BAD-1',
    kind: 'electricity',
    ts: '2013-02-01T00:30:00Z',
    value: 0.5,
    unit: 'MWh',
    type: 'interval',
    seq: 2,
  }),
];

/** Builds the lake in a temp directory and returns its file: URL. */
export async function replayedLake(opts: { londonRows?: number; traceRows?: number } = {}): Promise<string> {
  const engines = await freshEngines();
  const bad = join(engines.dir, 'bad.jsonl');
  await writeFile(bad, `${BAD.join('\n')}\n`);
  await cli([
    'produce',
    '--source',
    'london-halfhourly',
    '--file',
    requireData(LONDON),
    '--limit',
    String(opts.londonRows ?? 70_000),
    '--quiet',
    ...engines.produceFlags,
  ]);
  await cli(['produce', '--source', 'jsonl', '--file', bad, '--quiet', ...engines.produceFlags]);
  await cli(['stream', '--drain', '--quiet', ...engines.flags], { timeoutMs: 600_000 });
  await cli([
    'produce',
    '--source',
    'google-2011',
    '--file',
    requireData(`${TRACE}/task_events/part-00000-of-00500.csv.gz`),
    '--file',
    requireData(`${TRACE}/machine_events_with_header.csv.gz`),
    '--limit',
    String(opts.traceRows ?? 20_000),
    '--quiet',
    ...engines.produceFlags,
  ]);
  await cli(['stream', '--workload', 'cluster-trace', '--drain', '--quiet', ...engines.flags], {
    timeoutMs: 600_000,
  });
  return engines.lake;
}

/** Copies every file of a lake into another store (e.g. a webhdfs:// lake), byte for byte. */
export async function copyLake(from: string, to: string): Promise<void> {
  const src = await openStore(from);
  const dst = await openStore(to);
  try {
    for (const o of await src.list('')) await dst.put(o.path, await src.get(o.path));
  } finally {
    await src.close();
    await dst.close();
  }
}
