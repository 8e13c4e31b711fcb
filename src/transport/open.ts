// Opens a Transport from a URL: `embedded:DIR` (the local log) or `kafka://HOST:PORT[,HOST:PORT]`.
// Implementations load lazily, so the embedded path never loads the Kafka client and vice versa.
// A `#ns=<prefix>` suffix prefixes every topic name (several pipelines on one cluster).

import { LakestreamError } from '../errors.ts';
import type { Transport } from './transport.ts';

export async function openTransport(url: string): Promise<Transport> {
  const ns = /#ns=([A-Za-z0-9._-]+)$/.exec(url);
  if (ns) {
    const { withNamespace } = await import('./namespace.ts');
    return withNamespace(await openTransport(url.slice(0, ns.index)), ns[1]);
  }
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
