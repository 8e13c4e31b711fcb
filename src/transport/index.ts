// The transport layer's front door: the Transport interface and openTransport for URLs. The
// embedded log and Kafka load lazily through openTransport; ./kafka/index.ts is Kafka's own door.

export { partitionForKey, partitionOfKeyBytes } from './murmur2.ts';
export { openTransport } from './open.ts';
export * from './transport.ts';
