// Kafka's default key partitioner: positive(murmur2(UTF-8 key bytes)) % partitions, so the embedded
// log and a Kafka cluster put every key in the same partition.

/**
 * murmur2 exactly as Kafka's Java client computes it (org.apache.kafka.common.utils.Utils.murmur2):
 * seed 0x9747b28c, m 0x5bd1e995, r 24, little-endian 4-byte words, 32-bit signed result.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // The Java switch falls through: 3 → 2 → 1, and only the last case multiplies.
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which differs for negative numbers). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's default partitioner picks for a key's UTF-8 bytes. */
export function partitionOfKeyBytes(keyBytes: Uint8Array, partitions: number): number {
  return toPositive(murmur2(keyBytes)) % partitions;
}

/** The partition of a string key (encoded as UTF-8, as Kafka clients encode string keys). */
export function partitionForKey(key: string, partitions: number): number {
  return partitionOfKeyBytes(Buffer.from(key, 'utf8'), partitions);
}
