// ObjectStore: the only way lakestream touches storage (local disk, memory, HDFS through WebHDFS).
//
// Rules every implementation keeps (the conformance suite in ./conformance.ts checks each):
// - Paths are relative to the store's root, '/'-separated, without a leading '/', never '..'.
// - list(prefix) returns every object whose path starts with `prefix`, recursively, SORTED by path
//   (byte order), directories omitted. Listing is consistent: an object whose put returned is listed.
// - get of a missing path throws LakestreamError NOT_FOUND; stat of one returns undefined.
// - putIfAbsent is atomic: of several concurrent calls for one path exactly one returns
//   {written: true}; the others return {written: false} — an expected outcome, not an error — and
//   the object is never seen half written. The Delta log's commits rely on it.
// - put overwrites, and is atomic for readers: they see the old or the new bytes, never a mix.
// - rename(from, to) fails with CONFLICT when `to` exists, NOT_FOUND when `from` does not.
// - delete of a missing path is not an error (returns false).
// - Parent "directories" are implicit: put creates them, delete may leave them empty.

export interface ObjectInfo {
  /** path relative to the store root */
  path: string;
  size: number;
  /** milliseconds since the epoch */
  modificationTime: number;
}

export type PutIfAbsentResult = { written: true } | { written: false; reason: 'exists' };

export interface ObjectStore {
  /** A URL that opens this same store again (`file:/abs/dir`, `memory:name`, `webhdfs://host:port/dir`). */
  readonly url: string;
  list(prefix: string): Promise<ObjectInfo[]>;
  get(path: string): Promise<Uint8Array>;
  stat(path: string): Promise<ObjectInfo | undefined>;
  put(path: string, data: Uint8Array): Promise<void>;
  putIfAbsent(path: string, data: Uint8Array): Promise<PutIfAbsentResult>;
  rename(from: string, to: string): Promise<void>;
  delete(path: string): Promise<boolean>;
  /**
   * A local file system path holding the object's bytes, for engines (DuckDB) that read files
   * themselves. Local stores return the file itself; remote ones download into a cache keyed by
   * path and size.
   */
  localPath(path: string): Promise<string>;
  close(): Promise<void>;
}

/** Normalises a relative store path and refuses ones that escape the root. */
export function cleanPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`path escapes the store root: ${path}`);
  return parts.join('/');
}

/**
 * Where a listing of `prefix` walks from and what it keeps: the deepest directory the prefix names
 * (`start`), and the full prefix a path must begin with (`match`; a prefix ending in '/' names a directory).
 */
export function listScope(prefix: string): { start: string; match: string } {
  const clean = cleanPath(prefix);
  const wantsDir = prefix.endsWith('/') || clean === '';
  const start = wantsDir ? clean : clean.includes('/') ? clean.slice(0, clean.lastIndexOf('/')) : '';
  return { start, match: wantsDir && clean !== '' ? `${clean}/` : clean };
}

/** Listings come sorted by path (code-unit order, as Delta log names compare). */
export function byPath(a: ObjectInfo, b: ObjectInfo): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function joinPath(...parts: string[]): string {
  return cleanPath(parts.filter((p) => p !== '').join('/'));
}
