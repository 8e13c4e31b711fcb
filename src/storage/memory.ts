// In-memory ObjectStore: for tests and for scratch tables that need no durability.

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LakestreamError } from '../errors.ts';
import {
  byPath,
  cleanPath,
  type ObjectInfo,
  type ObjectStore,
  type PutIfAbsentResult,
} from './object-store.ts';

interface Entry {
  data: Uint8Array;
  modificationTime: number;
}

const namedStores = new Map<string, Map<string, Entry>>();

export class MemoryStore implements ObjectStore {
  readonly url: string;
  private readonly objects: Map<string, Entry>;
  private spillDir: string | undefined;

  /** Stores opened with the same name in one process share their objects. */
  constructor(name = `m${Math.random().toString(36).slice(2)}`) {
    this.url = `memory:${name}`;
    let objects = namedStores.get(name);
    if (!objects) {
      objects = new Map();
      namedStores.set(name, objects);
    }
    this.objects = objects;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const p = prefix === '' ? '' : cleanPath(prefix) + (prefix.endsWith('/') ? '/' : '');
    const out: ObjectInfo[] = [];
    for (const [path, e] of this.objects) {
      if (path.startsWith(p))
        out.push({ path, size: e.data.byteLength, modificationTime: e.modificationTime });
    }
    return out.sort(byPath);
  }

  async get(path: string): Promise<Uint8Array> {
    const e = this.objects.get(cleanPath(path));
    if (!e) throw new LakestreamError('NOT_FOUND', `no such object: ${this.url}/${cleanPath(path)}`);
    return e.data.slice();
  }

  async stat(path: string): Promise<ObjectInfo | undefined> {
    const p = cleanPath(path);
    const e = this.objects.get(p);
    return e && { path: p, size: e.data.byteLength, modificationTime: e.modificationTime };
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    this.objects.set(cleanPath(path), { data: data.slice(), modificationTime: Date.now() });
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<PutIfAbsentResult> {
    const p = cleanPath(path);
    if (this.objects.has(p)) return { written: false, reason: 'exists' };
    this.objects.set(p, { data: data.slice(), modificationTime: Date.now() });
    return { written: true };
  }

  async rename(from: string, to: string): Promise<void> {
    const f = cleanPath(from);
    const t = cleanPath(to);
    const e = this.objects.get(f);
    if (!e) throw new LakestreamError('NOT_FOUND', `cannot rename, no such object: ${this.url}/${f}`);
    if (this.objects.has(t))
      throw new LakestreamError('CONFLICT', `cannot rename onto an existing object: ${t}`);
    this.objects.delete(f);
    this.objects.set(t, e);
  }

  async delete(path: string): Promise<boolean> {
    return this.objects.delete(cleanPath(path));
  }

  async localPath(path: string): Promise<string> {
    const data = await this.get(path);
    this.spillDir ??= await mkdtemp(join(tmpdir(), 'lakestream-mem-'));
    const file = join(this.spillDir, cleanPath(path).replaceAll('/', '__'));
    await writeFile(file, data);
    return file;
  }

  async close(): Promise<void> {}
}
