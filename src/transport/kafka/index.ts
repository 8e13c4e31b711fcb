// The Kafka transport's entry point, loaded lazily by ../open.ts for kafka:// URLs.

export { KafkaAdmin, PROBE_TIMEOUT_MS } from './admin.ts';
export { apiIds, kafkaMessage } from './errors.ts';
export { PRODUCER_ACKS } from './producer.ts';
export { KafkaTransport, openKafkaTransport } from './transport.ts';
export { type Compression, type KafkaSettings, parseKafkaUrl } from './url.ts';
