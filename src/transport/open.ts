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
    let kafka: { openKafkaTransport?: (url: string) => Promise<Transport> };
    try {
      // A specifier in a variable: this file type-checks and runs before kafka/ exists.
      const kafkaModule = './kafka/index.ts';
      kafka = await import(kafkaModule);
    } catch (e) {
      throw new LakestreamError(
        'UNSUPPORTED',
        `cannot load the Kafka transport for ${url}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    if (typeof kafka.openKafkaTransport !== 'function')
      throw new LakestreamError(
        'UNSUPPORTED',
        `the Kafka transport module does not export openKafkaTransport (for ${url})`,
      );
    return kafka.openKafkaTransport(url);
  }
  throw new LakestreamError(
    'BAD_ARGUMENT',
    `unknown transport URL "${url}": use embedded:DIR or kafka://HOST:PORT[,HOST:PORT]`,
  );
}
