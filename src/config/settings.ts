// Settings shared by every command, declared once: flag name, environment variable, default.
// A command spreads the options it takes (`...lakeOption`, `...transportOption`, `...engineOption`)
// into its own; `lakeUrl`, `transportUrl` and `engineSetting` apply the flag, else the env, else the default.

import { LakestreamError } from '../errors.ts';
import type { Options } from './options.ts';

export const DEFAULT_TRANSPORT = 'embedded:./.lakestream/log';
export const DEFAULT_LAKE = 'file:./.lakestream/lake';

export const transportOption = {
  transport: {
    type: 'string',
    value: 'URL',
    help: `transport: embedded:DIR or kafka://HOST:PORT[,HOST:PORT] (env LAKESTREAM_TRANSPORT; default ${DEFAULT_TRANSPORT})`,
  },
} as const satisfies Options;

export const lakeOption = {
  lake: {
    type: 'string',
    value: 'URL',
    help: `lake storage: file:DIR or webhdfs://HOST:PORT/DIR (env LAKESTREAM_LAKE; default ${DEFAULT_LAKE})`,
  },
} as const satisfies Options;

/** The transport URL: the flag, else the environment, else the default. A bare path means embedded:. */
export function transportUrl(flag: string | undefined): string {
  const url = flag ?? process.env.LAKESTREAM_TRANSPORT ?? DEFAULT_TRANSPORT;
  if (url === 'embedded:' || url.trim() === '')
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--transport "${url}" names no folder — give embedded:DIR, a folder, or kafka://HOST:PORT`,
    );
  return /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `embedded:${url}`;
}

/** The lake URL: the flag, else the environment, else the default. A bare path means file:. */
export function lakeUrl(flag: string | undefined): string {
  const url = flag ?? process.env.LAKESTREAM_LAKE ?? DEFAULT_LAKE;
  // "file:" alone would be the current directory: almost never what was meant
  if (url === 'file:' || url === 'file://' || url.trim() === '')
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `--lake "${url}" names no folder — give file:DIR, a folder, or webhdfs://HOST:PORT/DIR`,
    );
  return url;
}

export const DEFAULT_ENGINE = 'duckdb';

export const engineOption = {
  engine: {
    type: 'string',
    value: 'ENGINE',
    help: `query engine: duckdb (in process), spark (= spark://127.0.0.1:15002) or spark://HOST:PORT, a Spark Connect server (env LAKESTREAM_ENGINE; default ${DEFAULT_ENGINE})`,
  },
} as const satisfies Options;

export function engineSetting(flag: string | undefined): string {
  return flag ?? process.env.LAKESTREAM_ENGINE ?? DEFAULT_ENGINE;
}
