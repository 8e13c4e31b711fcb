// Parses `kafka://HOST:PORT[,HOST:PORT…][?option=value&…]` into bootstrap brokers and client options.

import { LakestreamError } from '../../errors.ts';

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface KafkaSettings {
  /** host:port of each bootstrap broker, in the URL's order */
  brokers: string[];
  /** replication factor of topics lakestream creates; default: 2 with 2+ brokers, else 1 */
  replication?: number;
  /** producer batch compression (default lz4: why, in README.md "The default codec"; `bench kafka` measures each) */
  compression: Compression;
  /** how long the producer waits to fill a batch while another is in flight (ms) */
  lingerMs: number;
  /** a group member silent this long is dead and its partitions go to the others (ms) */
  sessionTimeoutMs: number;
  /** client id shown in the brokers' logs and metrics */
  clientId: string;
}

const DEFAULTS = {
  compression: 'lz4',
  lingerMs: 5,
  sessionTimeoutMs: 10_000,
  clientId: 'lakestream',
} as const;

const OPTIONS = ['replication', 'compression', 'linger', 'session', 'client'];

function intParam(url: string, name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `transport URL ${url}: ${name} must be a whole number in ${min}..${max}, got "${raw}"`,
    );
  return n;
}

export function parseKafkaUrl(url: string): KafkaSettings {
  if (!url.startsWith('kafka://'))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `not a Kafka transport URL: ${url} (use kafka://HOST:PORT[,HOST:PORT])`,
    );
  const rest = url.slice('kafka://'.length);
  const q = rest.indexOf('?');
  const hostPart = (q < 0 ? rest : rest.slice(0, q)).replace(/\/+$/, '');
  if (hostPart === '')
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `transport URL ${url} names no broker (use kafka://HOST:PORT[,HOST:PORT])`,
    );
  const brokers = hostPart.split(',').map((b) => {
    const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(b.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
      throw new LakestreamError('BAD_ARGUMENT', `transport URL ${url}: "${b}" is not HOST:PORT`);
    return `${m[1]}:${Number(m[2])}`;
  });
  const settings: KafkaSettings = { brokers, ...DEFAULTS };
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  for (const [name, value] of params) {
    if (name === 'replication') settings.replication = intParam(url, name, value, 1, 16);
    else if (name === 'linger') settings.lingerMs = intParam(url, name, value, 0, 10_000);
    else if (name === 'session') settings.sessionTimeoutMs = intParam(url, name, value, 6000, 300_000);
    else if (name === 'client') settings.clientId = value;
    else if (name === 'compression') {
      if (!COMPRESSIONS.includes(value as Compression))
        throw new LakestreamError(
          'BAD_ARGUMENT',
          `transport URL ${url}: compression must be one of ${COMPRESSIONS.join(', ')}, got "${value}"`,
        );
      settings.compression = value as Compression;
    } else
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `transport URL ${url}: unknown option "${name}" (known: ${OPTIONS.join(', ')})`,
      );
  }
  return settings;
}

/** Kafka's rule for topic names: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
export function checkTopicName(name: string): void {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(name) || name === '.' || name === '..')
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `"${name}" is not a legal Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)`,
    );
}
