// Local-disk ObjectStore (`file:` URLs). putIfAbsent writes a temp file and link()s it into place:
// link fails with EEXIST when the target exists, so exactly one concurrent writer wins, and
// readers never see a partial file.

import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LakestreamError } from '../errors.ts';
import { storageFullError } from './faults.ts';
import {
  byPath,
  cleanPath,
  listScope,
  type ObjectInfo,
  type ObjectStore,
  type PutIfAbsentResult,
} from './object-store.ts';

const TEMP_PREFIX = '.tmp-';

export class LocalStore implements ObjectStore {
  readonly url: string;
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    this.url = pathToFileURL(root).href;
  }

  private abs(path: string): string {
    return join(this.root, cleanPath(path));
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // Walk from the deepest directory the prefix names, then filter by the full prefix.
    const { start: startRel, match } = listScope(prefix);
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
          return;
        throw e;
      }
      for (const ent of entries) {
        if (ent.name.startsWith(TEMP_PREFIX)) continue;
        const full = join(dir, ent.name);
        const rel = relative(this.root, full).split(sep).join('/');
        if (ent.isDirectory()) {
          if (match.startsWith(`${rel}/`) || rel.startsWith(match) || match === '') await walk(full);
        } else if (rel.startsWith(match)) {
          try {
            const s = await stat(full);
            out.push({ path: rel, size: s.size, modificationTime: Math.floor(s.mtimeMs) });
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // deleted while listing
          }
        }
      }
    };
    await walk(join(this.root, startRel));
    return out.sort(byPath);
  }

  async get(path: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(this.abs(path)));
    } catch (e) {
      throw this.translate(e, path);
    }
  }

  async stat(path: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(this.abs(path));
      if (!s.isFile()) return undefined;
      return { path: cleanPath(path), size: s.size, modificationTime: Math.floor(s.mtimeMs) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
        return undefined;
      throw this.translate(e, path);
    }
  }

  private async writeTemp(path: string, data: Uint8Array): Promise<string> {
    const target = this.abs(path);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `${TEMP_PREFIX}${randomUUID()}`);
    try {
      await writeFile(tmp, data);
    } catch (e) {
      // a full disk leaves a partial temp file: take it away, say the disk is full
      await unlink(tmp).catch(() => {});
      throw this.translate(e, path);
    }
    return tmp;
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    const tmp = await this.writeTemp(path, data);
    await rename(tmp, this.abs(path));
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<PutIfAbsentResult> {
    const tmp = await this.writeTemp(path, data);
    try {
      await link(tmp, this.abs(path));
      return { written: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { written: false, reason: 'exists' };
      throw this.translate(e, path);
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async rename(from: string, to: string): Promise<void> {
    // link + unlink rather than rename(2), which would silently replace an existing target.
    try {
      await mkdir(dirname(this.abs(to)), { recursive: true });
      await link(this.abs(from), this.abs(to));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new LakestreamError('CONFLICT', `cannot rename onto an existing object: ${this.abs(to)}`);
      throw this.translate(e, from);
    }
    await unlink(this.abs(from));
  }

  async delete(path: string): Promise<boolean> {
    try {
      await unlink(this.abs(path));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw this.translate(e, path);
    }
  }

  async localPath(path: string): Promise<string> {
    return this.abs(path);
  }

  async close(): Promise<void> {}

  private translate(e: unknown, path: string): unknown {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')
      return new LakestreamError('NOT_FOUND', `no such object: ${this.abs(path)}`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM')
      return new LakestreamError('PERMISSION', `permission denied: ${this.abs(path)}`, { cause: e });
    if (code === 'ENOSPC' || code === 'EDQUOT') return storageFullError(this.url, path, e);
    return e;
  }
}
