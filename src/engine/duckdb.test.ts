// DuckDB, the embedded engine, passes the shared conformance suite on a file: lake.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayedLake } from '../../test/helpers/engine-lake.ts';
import { runEngineSuite } from './conformance.ts';
import { DuckDbEngine } from './duckdb/engine.ts';

runEngineSuite('duckdb on a file: lake', {
  open: (lake) => DuckDbEngine.open(lake),
  emptyLake: async () => `file:${await mkdtemp(join(tmpdir(), 'lakestream-engine-'))}`,
  replayedLake: () => replayedLake(),
  longQuery: 'SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE (a.range * b.range) % 7 = 3',
});
