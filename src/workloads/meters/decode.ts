// Bytes of a message → a validated reading, or the reason it goes to quarantine.

import { MAX_MESSAGE_BYTES, type Reading, validateReading } from './reading.ts';

export type DecodeResult =
  | { ok: true; reading: Reading }
  | { ok: false; reason: string; detail: string; src?: string; meterId?: string };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeMessage(bytes: Uint8Array, now = Date.now()): DecodeResult {
  if (bytes.byteLength > MAX_MESSAGE_BYTES)
    return { ok: false, reason: 'too-large', detail: `message of ${bytes.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}` };
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'invalid-utf8', detail: 'message bytes are not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: 'malformed-json', detail: (e as Error).message };
  }
  const v = validateReading(value, { now });
  if (v.ok) return v;
  return { ok: false, reason: v.reason, detail: v.detail, src: v.src, meterId: v.meter_id };
}
