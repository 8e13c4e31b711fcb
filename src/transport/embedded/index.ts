// The embedded transport's public surface: a durable log in `DIR/log.sqlite` (node:sqlite, WAL)
// shared by every process on the machine that opens `embedded:DIR`.
//   sqlite.ts     file, pragmas, schema, write transactions     codec.ts     batch byte layout
//   log.ts        topics, append, read, offsets                  producer.ts  murmur2 partitioning
//   group.ts      members, heartbeats, assignment, ownership     consumer.ts  poll/commit/seek
//   heartbeats.ts + heartbeat-thread.ts  beats from a worker thread, so a busy event loop keeps its partitions
//   retention.ts  truncate what every group committed past       transport.ts the Transport + URL

export type { SyncMode } from './sqlite.ts';
export { type EmbeddedOptions, EmbeddedTransport, openEmbeddedTransport } from './transport.ts';
