// The byte layout of one stored batch of messages (one row of the `batches` table).
//
// Per message, in offset order:  f64 LE timestamp (ms) | i32 LE key length, -1 = null key
//                                | key UTF-8 bytes | u32 LE value length | value bytes
// The row holds base_offset and end_offset, so a message's offset is base_offset + its index.

import type { Message } from '../transport.ts';

export interface EncodedMessage {
  keyBytes: Uint8Array | null;
  value: Uint8Array;
  timestamp: number;
}

const HEADER = 8 + 4 + 4;

export function encodedSize(m: EncodedMessage): number {
  return HEADER + (m.keyBytes?.byteLength ?? 0) + m.value.byteLength;
}

export function encodeBatch(messages: EncodedMessage[], from = 0, to = messages.length): Uint8Array {
  let size = 0;
  for (let i = from; i < to; i++) size += encodedSize(messages[i]);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = from; i < to; i++) {
    const m = messages[i];
    out.writeDoubleLE(m.timestamp, at);
    if (m.keyBytes === null) {
      out.writeInt32LE(-1, at + 8);
      at += 12;
    } else {
      out.writeInt32LE(m.keyBytes.byteLength, at + 8);
      out.set(m.keyBytes, at + 12);
      at += 12 + m.keyBytes.byteLength;
    }
    out.writeUInt32LE(m.value.byteLength, at);
    out.set(m.value, at + 4);
    at += 4 + m.value.byteLength;
  }
  return out;
}

/**
 * Appends to `out` the messages of a batch whose offset is at least `from`, stopping once `out`
 * holds `max`. Returns the offset after the last message appended (or after the batch when every
 * message was below `from`). Values are views into `data`, not copies.
 */
export function decodeBatch(
  data: Uint8Array,
  baseOffset: number,
  from: number,
  topic: string,
  partition: number,
  max: number,
  out: Message[],
): number {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  let offset = baseOffset;
  while (at < buf.byteLength && out.length < max) {
    const keyLength = buf.readInt32LE(at + 8);
    const keyAt = at + 12;
    const valueLengthAt = keyAt + Math.max(keyLength, 0);
    const valueLength = buf.readUInt32LE(valueLengthAt);
    const next = valueLengthAt + 4 + valueLength;
    if (offset >= from) {
      out.push({
        topic,
        partition,
        offset,
        key: keyLength < 0 ? null : buf.toString('utf8', keyAt, keyAt + keyLength),
        value: buf.subarray(valueLengthAt + 4, next),
        timestamp: buf.readDoubleLE(at),
      });
    }
    at = next;
    offset++;
  }
  return offset;
}
