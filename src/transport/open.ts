// Opens a Transport from a URL: `embedded:DIR` (the local log) or `kafka://HOST:PORT[,HOST:PORT]`.
// Implementations load lazily, so the embedded path never loads the Kafka client and vice versa.

import { LakestreamError } from '../errors.ts';
import type { Transport } from './transport.ts';

export async function openTransport(url: string): Promise<Transport> {
  if (url.startsWith('embedded:')) {
    const { openEmbeddedTransport } = await import('./embedded/index.ts');
    return openEmbeddedTransport(url);
  }
  if (url.startsWith('kafka://')) {
    const { openKafkaTransport } = await import('./kafka/index.ts');
    return openKafkaTransport(url);
  }
  throw new LakestreamError(
    'BAD_ARGUMENT',
    `unknown transport URL "${url}": use embedded:DIR or kafka://HOST:PORT[,HOST:PORT]`,
  );
}
