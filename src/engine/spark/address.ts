// A Spark Connect address: sc://HOST:PORT/;user_id=…;session_id=… (Spark's connection string) or
// spark://HOST:PORT, the form lakestream's --engine flag takes.

import { LakestreamError } from '../../errors.ts';

export const DEFAULT_PORT = 15002;

export interface SparkAddress {
  host: string;
  port: number;
  /** sc://host:port, for messages */
  display: string;
  /** the HTTP/2 base URL gRPC calls go to */
  baseUrl: string;
  userId?: string;
  sessionId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseSparkAddress(url: string): SparkAddress {
  const m = /^(sc|spark):\/\/(\[[^\]]+\]|[^:/;]+)(?::(\d+))?\/?(;.*)?$/.exec(url.trim());
  if (!m) {
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `Spark Connect address "${url}" is not sc://HOST[:PORT] or spark://HOST[:PORT]`,
    );
  }
  const [, , host, portText, paramText] = m;
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!(port > 0 && port < 65536))
    throw new LakestreamError('BAD_ARGUMENT', `port ${portText} is out of range in "${url}"`);
  const address: SparkAddress = {
    host,
    port,
    display: `sc://${host}:${port}`,
    baseUrl: `http://${host}:${port}`,
  };
  for (const pair of (paramText ?? '').split(';').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (key === 'user_id') address.userId = value;
    else if (key === 'session_id') {
      if (!UUID.test(value))
        throw new LakestreamError('BAD_ARGUMENT', `session_id must be a UUID in "${url}"`);
      address.sessionId = value;
    } else if (key === 'use_ssl' && value === 'false') {
      // plain HTTP/2 is what lakestream speaks anyway
    } else {
      // TLS and bearer tokens need a secured channel lakestream does not set up (its Spark is on 127.0.0.1)
      throw new LakestreamError(
        'UNSUPPORTED',
        `Spark Connect parameter "${key}" is not supported (in "${url}")`,
      );
    }
  }
  return address;
}
