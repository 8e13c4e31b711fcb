// Turns @platformatic/kafka's errors into LakestreamErrors that name the brokers, topic or group,
// and bounds every call that could otherwise wait on a silent socket.

import { type ErrorCode, LakestreamError } from '../../errors.ts';

interface KafkaLikeError extends Error {
  code?: string;
  apiId?: string;
  errors?: unknown[];
  canRetry?: boolean;
}

/** Every error inside an AggregateError tree (the client nests retries as MultipleErrors). */
function leaves(e: unknown): KafkaLikeError[] {
  if (!(e instanceof Error)) return [];
  const k = e as KafkaLikeError;
  const nested = Array.isArray(k.errors) ? k.errors.flatMap(leaves) : [];
  const cause = k.cause instanceof Error ? leaves(k.cause) : [];
  return [k, ...nested, ...cause];
}

/** The Kafka protocol error ids (e.g. UNKNOWN_TOPIC_OR_PARTITION) anywhere in the error. */
export function apiIds(e: unknown): string[] {
  return leaves(e)
    .map((x) => x.apiId)
    .filter((x): x is string => typeof x === 'string');
}

export function hasApiId(e: unknown, id: string): boolean {
  return apiIds(e).includes(id);
}

/** The most specific message: the deepest distinct ones, joined. */
export function kafkaMessage(e: unknown): string {
  const all = leaves(e);
  if (all.length === 0) return String(e);
  const msgs = [...new Set(all.map((x) => x.message).filter((m) => m && !/failed \d+ times\.$/.test(m)))];
  return msgs.slice(-3).join('; ') || all[0].message;
}

/** Protocol errors that mean "a broker moved or restarts; the same request soon succeeds". */
export const TRANSIENT_API_IDS = [
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'REQUEST_TIMED_OUT',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NETWORK_EXCEPTION',
];

const NETWORK =
  /Cannot connect to any broker|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|socket|Connection closed|closed connection/i;

/**
 * Maps a client error to a LakestreamError. `where` names the place ("topic meters.readings on
 * 127.0.0.1:9092"), `topic` lets an unknown-topic error name it.
 */
export function toLakestreamError(e: unknown, where: string, topic?: string): LakestreamError {
  if (e instanceof LakestreamError) return e;
  const all = leaves(e);
  const codes = all.map((x) => x.code ?? '');
  const ids = apiIds(e);
  const msg = kafkaMessage(e);
  const make = (code: ErrorCode, text: string) => new LakestreamError(code, text, { cause: e });
  const unknownTopic = /Unknown topic (.+?)\.?$/m.exec(all.map((x) => x.message).join('\n'));
  if (ids.includes('UNKNOWN_TOPIC_OR_PARTITION') || ids.includes('UNKNOWN_TOPIC_ID') || unknownTopic) {
    const name = topic ?? unknownTopic?.[1] ?? '?';
    return make(
      'NOT_FOUND',
      `topic "${name}" does not exist (${where}); create it with ensureTopic or "lakestream produce"`,
    );
  }
  if (codes.includes('PLT_KFK_UNSUPPORTED_API'))
    return make(
      'UNAVAILABLE',
      `${where} did not answer as a Kafka broker (${msg}); is the port a broker's listener, not a controller's?`,
    );
  if (
    codes.includes('PLT_KFK_AUTHENTICATION') ||
    ids.some((i) => /AUTHORIZATION|SASL|AUTHENTICATION/.test(i))
  )
    return make('PERMISSION', `${where} refused lakestream: ${msg}`);
  if (codes.includes('PLT_KFK_TIMEOUT')) return make('TIMEOUT', `${where} did not answer in time: ${msg}`);
  if (ids.includes('NOT_ENOUGH_REPLICAS') || ids.includes('NOT_ENOUGH_REPLICAS_AFTER_APPEND'))
    return make(
      'UNAVAILABLE',
      `${where}: NOT_ENOUGH_REPLICAS — fewer brokers hold the partition in sync than its min.insync.replicas, so the broker refused the acks=all write rather than keep it on too few (${msg}); retry once brokers are back`,
    );
  if (ids.some((i) => TRANSIENT_API_IDS.includes(i)))
    return make('UNAVAILABLE', `${where}: the cluster is failing over (${msg}); retry`);
  if (codes.includes('PLT_KFK_NETWORK') || all.some((x) => NETWORK.test(x.message)))
    return make('UNAVAILABLE', `${where} is unreachable (no broker answered): ${msg}`);
  if (ids.includes('TOPIC_AUTHORIZATION_FAILED') || ids.includes('GROUP_AUTHORIZATION_FAILED'))
    return make('PERMISSION', `${where}: ${msg}`);
  if (
    ids.includes('INVALID_REPLICATION_FACTOR') ||
    ids.includes('INVALID_PARTITIONS') ||
    ids.includes('INVALID_TOPIC_EXCEPTION')
  )
    return make('BAD_ARGUMENT', `${where}: ${msg}`);
  if (ids.includes('MESSAGE_TOO_LARGE') || ids.includes('RECORD_LIST_TOO_LARGE'))
    return make('BAD_INPUT', `${where}: a message is larger than the broker accepts (${msg})`);
  const retriable = all.some((x) => x.canRetry === true);
  return new LakestreamError('INTERNAL', `${where}: ${msg}`, { cause: e, retriable });
}

/** Runs `work`, failing with `onTimeout()` if it takes longer than `ms` (the work itself goes on). */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => LakestreamError,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface TopicInMetadata {
  name: string;
  partitions: number;
  internal: boolean;
}

/**
 * The topics of a Metadata response carried by an error. The client fails a whole Metadata call
 * when any partition has no leader (an election after a broker died), though the response still
 * names every topic and its partitions: enough to list topics and count partitions meanwhile.
 */
export function topicsInMetadataError(e: unknown): TopicInMetadata[] | undefined {
  for (const x of leaves(e)) {
    const topics = (x as { response?: { topics?: unknown } }).response?.topics;
    if (!Array.isArray(topics)) continue;
    const out: TopicInMetadata[] = [];
    for (const t of topics as {
      name?: string | null;
      errorCode?: number;
      isInternal?: boolean;
      partitions?: unknown[];
    }[]) {
      // 0: fine; 5 LEADER_NOT_AVAILABLE: exists, electing. Anything else (3 unknown topic): skip.
      if (
        typeof t.name !== 'string' ||
        !Array.isArray(t.partitions) ||
        (t.errorCode !== 0 && t.errorCode !== 5)
      )
        continue;
      out.push({ name: t.name, partitions: t.partitions.length, internal: t.isInternal === true });
    }
    return out;
  }
  return undefined;
}
