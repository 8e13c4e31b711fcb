// The query engines' front door: parse an --engine value and open that engine over a lake.

import { LakestreamError } from '../errors.ts';
import type { EngineName, QueryEngine } from './engine.ts';

export * from './engine.ts';

export const DEFAULT_SPARK_PORT = 15002;

export interface EngineSpec {
  name: EngineName;
  /** spark only: host:port of the Spark Connect server */
  address?: string;
}

/** `duckdb`, `spark` (= spark://127.0.0.1:15002) or `spark://HOST[:PORT]` (`sc://` too, Spark's own spelling). */
export function parseEngine(value: string): EngineSpec {
  const v = value.trim();
  if (v === 'duckdb') return { name: 'duckdb' };
  if (v === 'spark') return { name: 'spark', address: `127.0.0.1:${DEFAULT_SPARK_PORT}` };
  const m = /^(?:spark|sc):\/\/([^/:?#]+|\[[0-9a-f:]+\])(?::(\d+))?\/?$/i.exec(v);
  if (m) {
    const port = m[2] === undefined ? DEFAULT_SPARK_PORT : Number(m[2]);
    if (port < 1 || port > 65535)
      throw new LakestreamError('BAD_ARGUMENT', `--engine: port ${m[2]} is out of range in "${value}"`);
    return { name: 'spark', address: `${m[1]}:${port}` };
  }
  throw new LakestreamError(
    'BAD_ARGUMENT',
    `--engine must be duckdb, spark or spark://HOST:PORT (a Spark Connect server), got "${value}"`,
  );
}

export interface OpenEngineOptions {
  /** how long to wait for a Spark Connect server to answer (default 6 s) */
  connectTimeoutMs?: number;
}

/** Opens the engine `value` names over the lake at `lakeUrl`; a Spark server that does not answer fails with UNAVAILABLE. */
export async function openEngine(
  value: string,
  lakeUrl: string,
  opts: OpenEngineOptions = {},
): Promise<QueryEngine> {
  const spec = parseEngine(value);
  if (spec.name === 'duckdb') {
    const { DuckDbEngine } = await import('./duckdb/engine.ts');
    return DuckDbEngine.open(lakeUrl);
  }
  const { SparkEngine } = await import('./spark/engine.ts');
  return SparkEngine.open(spec.address!, lakeUrl, opts);
}
