// Deletion vectors (PROTOCOL "Deletion Vectors"): where a file's DV is stored, and the row indexes it
// marks deleted, decoded from the RoaringBitmapArray format (checked against size and checksum).

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { LakestreamError } from '../errors.ts';
import type { ObjectStore } from '../storage/index.ts';
import { joinPath } from '../storage/index.ts';

export interface DeletionVector {
  /** 'u' relative path (prefix + z85 uuid), 'i' inline (z85 bytes), 'p' absolute path */
  storageType: string;
  pathOrInlineDv: string;
  /** start of this DV in its file (stored kinds only; absent means 1) */
  offset?: number | null;
  sizeInBytes: number;
  cardinality: number;
}

/** The DV's identity in the log: a file's key is its path plus this (PROTOCOL "Action Reconciliation"). */
export function dvUniqueId(dv: DeletionVector | null | undefined): string {
  if (!dv) return '';
  const offset = dv.offset ?? undefined;
  return `${dv.storageType}${dv.pathOrInlineDv}${offset === undefined ? '' : `@${offset}`}`;
}

/** The key of a file in the replayed state: its path, plus its DV's id when it has one. */
export function fileKey(f: { path: string; deletionVector?: unknown }): string {
  const id = dvUniqueId(f.deletionVector as DeletionVector | null | undefined);
  return id === '' ? f.path : `${f.path}\u0000${id}`;
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const Z85_VALUE = new Map([...Z85].map((c, i) => [c, i]));

/** Z85 (ZeroMQ base-85) text -> bytes; every 5 characters give 4 bytes, big-endian. */
export function z85Decode(s: string): Uint8Array {
  if (s.length % 5 !== 0) throw new Error(`Z85 text length ${s.length} is not a multiple of 5`);
  const out = new Uint8Array((s.length / 5) * 4);
  for (let i = 0, o = 0; i < s.length; i += 5, o += 4) {
    let v = 0;
    for (let j = 0; j < 5; j++) {
      const d = Z85_VALUE.get(s[i + j]);
      if (d === undefined) throw new Error(`"${s[i + j]}" is not a Z85 character`);
      v = v * 85 + d;
    }
    if (v > 0xffffffff) throw new Error('Z85 group out of range');
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  }
  return out;
}

/** bytes (length a multiple of 4) -> Z85 text; for tests and inline DVs. */
export function z85Encode(b: Uint8Array): string {
  if (b.length % 4 !== 0) throw new Error('Z85 needs a multiple of 4 bytes');
  let s = '';
  for (let i = 0; i < b.length; i += 4) {
    let v = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
    const chunk: string[] = [];
    for (let j = 0; j < 5; j++) {
      chunk.unshift(Z85[v % 85]);
      v = Math.floor(v / 85);
    }
    s += chunk.join('');
  }
  return s;
}

/** The store path (within the lake) of a stored DV's file, relative to the table; undefined when inline. */
export function dvFilePath(table: string, dv: DeletionVector): string | undefined {
  if (dv.storageType === 'i') return undefined;
  if (dv.storageType === 'p') return undefined; // absolute: see dvAbsolutePath
  if (dv.storageType !== 'u') throw new Error(`unknown deletion vector storage type "${dv.storageType}"`);
  const s = dv.pathOrInlineDv;
  if (s.length < 20) throw new Error(`relative deletion vector path "${s}" is too short`);
  const prefix = s.slice(0, -20);
  const u = Buffer.from(z85Decode(s.slice(-20))).toString('hex');
  const uuid = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20)}`;
  return joinPath(table, `${prefix === '' ? '' : `${prefix}/`}deletion_vector_${uuid}.bin`);
}

const PORTABLE_MAGIC = 1681511377;

/**
 * The deleted row indexes of a data file, ascending. `where` names the table and file for errors;
 * a damaged or unreadable DV is CORRUPT_TABLE (never a silently shorter deletion).
 */
export async function readDeletionVector(
  store: ObjectStore,
  table: string,
  dv: DeletionVector,
  where: string,
): Promise<number[]> {
  try {
    let bitmap: Uint8Array;
    if (dv.storageType === 'i') {
      bitmap = z85Decode(dv.pathOrInlineDv).subarray(0, Number(dv.sizeInBytes));
    } else {
      let file: Uint8Array;
      if (dv.storageType === 'p') {
        if (!/^file:/i.test(dv.pathOrInlineDv))
          throw new LakestreamError(
            'UNSUPPORTED',
            `${where}: its deletion vector ${dv.pathOrInlineDv} is on another file system`,
          );
        file = new Uint8Array(await readFile(fileURLToPath(dv.pathOrInlineDv)));
      } else file = await store.get(dvFilePath(table, dv)!);
      if (file[0] !== 1) throw new Error(`deletion vector file format version ${file[0]} is not 1`);
      const start = Number(dv.offset ?? 1);
      const size = Number(dv.sizeInBytes);
      if (start + 4 + size + 4 > file.length)
        throw new Error('the deletion vector runs past the end of its file');
      const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
      const stored = view.getUint32(start, false);
      if (stored !== size) throw new Error(`its size is ${stored} bytes, the log says ${size}`);
      bitmap = file.subarray(start + 4, start + 4 + size);
      const sum = view.getUint32(start + 4 + size, false);
      if (crc32(bitmap) !== sum) throw new Error('its checksum does not match');
    }
    const rows = decodeBitmapArray(bitmap);
    if (rows.length !== Number(dv.cardinality))
      throw new Error(`it marks ${rows.length} rows, the log says ${dv.cardinality}`);
    return rows;
  } catch (e) {
    if (e instanceof LakestreamError) throw e;
    throw new LakestreamError(
      'CORRUPT_TABLE',
      `${where}: cannot read its deletion vector (${(e as Error).message})`,
      { cause: e },
    );
  }
}

/**
 * RoaringBitmapArray, portable form: magic (u32 LE), bitmap count (u64 LE), then per bitmap its
 * high 32 bits (u32 LE) and a 32-bit Roaring bitmap in the portable serialisation.
 */
export function decodeBitmapArray(b: Uint8Array): number[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== PORTABLE_MAGIC) throw new Error(`bad magic number ${magic} (want ${PORTABLE_MAGIC})`);
  const count = Number(view.getBigUint64(4, true));
  let pos = 12;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const high = view.getUint32(pos, true);
    pos += 4;
    pos = decodeRoaring(view, pos, high * 2 ** 32, out);
  }
  return out;
}

const SERIAL_COOKIE_NO_RUN = 12346;
const SERIAL_COOKIE = 12347;

/** One portable 32-bit Roaring bitmap at `pos` (RoaringFormatSpec); appends base+value; returns the end. */
function decodeRoaring(view: DataView, pos: number, base: number, out: number[]): number {
  const cookie = view.getUint32(pos, true);
  let size: number;
  let runs: Uint8Array | undefined;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    pos += 4;
    runs = new Uint8Array(view.buffer, view.byteOffset + pos, Math.ceil(size / 8));
    pos += runs.length;
  } else if (cookie === SERIAL_COOKIE_NO_RUN) {
    size = view.getUint32(pos + 4, true);
    pos += 8;
  } else throw new Error(`bad roaring cookie ${cookie}`);
  const keys: number[] = [];
  const cards: number[] = [];
  for (let i = 0; i < size; i++) {
    keys.push(view.getUint16(pos, true));
    cards.push(view.getUint16(pos + 2, true) + 1);
    pos += 4;
  }
  if (!runs || size >= 4) pos += 4 * size; // the offset header
  for (let i = 0; i < size; i++) {
    const hi = base + keys[i] * 65536;
    if (runs && (runs[i >> 3] >> (i & 7)) & 1) {
      const n = view.getUint16(pos, true);
      pos += 2;
      for (let r = 0; r < n; r++) {
        const start = view.getUint16(pos, true);
        const len = view.getUint16(pos + 2, true);
        pos += 4;
        for (let v = start; v <= start + len; v++) out.push(hi + v);
      }
    } else if (cards[i] <= 4096) {
      for (let k = 0; k < cards[i]; k++) out.push(hi + view.getUint16(pos + 2 * k, true));
      pos += 2 * cards[i];
    } else {
      for (let w = 0; w < 2048; w++) {
        const word = view.getUint32(pos + 4 * w, true); // 64-bit LE words read as two 32-bit halves
        if (word === 0) continue;
        for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) out.push(hi + w * 32 + bit);
      }
      pos += 8192;
    }
  }
  return pos;
}
