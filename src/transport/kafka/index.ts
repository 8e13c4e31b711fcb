// The Kafka transport's entry point, loaded lazily by ../open.ts for kafka:// URLs.

export { KafkaTransport, openKafkaTransport } from './transport.ts';
export { type KafkaSettings, parseKafkaUrl } from './url.ts';
