// A lake filled by a real pipeline run (produce → stream --drain) on the first 70,000 half-hours of the
// 20 London households of 2013 (1 January to mid March): closed months with outcomes, an open one with predictions.

import { Lake } from '../../src/lake/index.ts';
import { cli, freshEngines, requireData } from '../helpers/cli.ts';

export const LONDON = 'meters/london/halfhourly_2013_20_households.csv.gz';
export const SLICE_ROWS = 70_000;

export interface ServeFixture {
  dir: string;
  lakeUrl: string;
  transportUrl: string;
  flags: string[];
  produceFlags: string[];
  /** an independent reader of the same lake, for expected values */
  lake: Lake;
  close(): Promise<void>;
}

export async function pipelineLake(rows = SLICE_ROWS): Promise<ServeFixture> {
  const engines = await freshEngines();
  const file = requireData(LONDON);
  await cli([
    'produce',
    '--source',
    'london-halfhourly',
    '--file',
    file,
    '--limit',
    String(rows),
    '--quiet',
    ...engines.produceFlags,
  ]);
  await cli(['stream', '--drain', '--quiet', ...engines.flags], { timeoutMs: 600_000 });
  const lake = await Lake.open(engines.lake);
  return {
    dir: engines.dir,
    lakeUrl: engines.lake,
    transportUrl: engines.transport,
    flags: engines.flags,
    produceFlags: engines.produceFlags,
    lake,
    close: () => lake.close(),
  };
}

/** Rows of a query as plain objects with numbers (BIGINT → number). */
export async function rows(lake: Lake, sql: string): Promise<Record<string, unknown>[]> {
  const r = await lake.query(sql, { maxRows: 1_000_000 });
  return r.rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  );
}
