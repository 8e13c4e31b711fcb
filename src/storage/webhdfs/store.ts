// The WebHDFS ObjectStore (`webhdfs://host:port/dir?user=U`): store paths live under one HDFS directory.
//
// How it keeps the ObjectStore rules on HDFS:
// - HDFS shows a file to readers while it is being written (length grows until close), so every
//   write goes to a temp name beside the target and is then RENAMEd into place: readers see no
//   object or the whole object.
// - put: RENAME with renameoptions=OVERWRITE (rename2) atomically replaces the target.
// - putIfAbsent: RENAME with renameoptions=NONE fails with FileAlreadyExistsException when the target
//   exists; the NameNode applies renames one at a time, so exactly one of several writers wins. This
//   is what Delta's own HDFSLogStore does (FileContext.rename with Rename.NONE). The mode 'create'
//   instead CREATEs the target with overwrite=false (one round trip less; the NameNode's lease makes
//   it exclusive) but readers listing the log may then meet a commit file still being written.
// - list: LISTSTATUS_BATCH per directory, directories walked in parallel, sorted at the end.

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { LakestreamError } from '../../errors.ts';
import {
  byPath,
  cleanPath,
  listScope,
  type ObjectInfo,
  type ObjectStore,
  type PutIfAbsentResult,
} from '../object-store.ts';
import { type FileStatus, WebHdfsClient, type WebHdfsClientOptions } from './client.ts';
import { aboutTarget } from './errors.ts';

const TEMP_PREFIX = '.tmp-';
const LIST_CONCURRENCY = 8;

/** Runs fn over items with at most `limit` calls in flight; results in item order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < items.length) {
      const i = nextIndex++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export type PutIfAbsentMode = 'rename' | 'create';

export interface WebHdfsStoreOptions extends Omit<WebHdfsClientOptions, 'user'> {
  /** absolute HDFS directory that holds the store; default '/' */
  root?: string;
  /** default: defaultHdfsUser() */
  user?: string;
  /** how putIfAbsent is made atomic; default 'rename' (see the header) */
  putIfAbsentMode?: PutIfAbsentMode;
  /** where localPath() keeps downloaded copies; default <tmpdir>/lakestream-webhdfs-cache */
  cacheDir?: string;
}

/**
 * The HDFS user when the URL names none: LAKESTREAM_HDFS_USER, else Hadoop's own HADOOP_USER_NAME,
 * else $USER, else 'lakestream' — the same rule `lakestream cluster up` uses to choose the cluster's
 * superuser, so a lake URL without a user works on the local cluster.
 */
export function defaultHdfsUser(): string {
  return process.env.LAKESTREAM_HDFS_USER || process.env.HADOOP_USER_NAME || process.env.USER || 'lakestream';
}

export class WebHdfsStore implements ObjectStore {
  readonly url: string;
  readonly root: string;
  readonly client: WebHdfsClient;
  private readonly mode: PutIfAbsentMode;
  private readonly cacheDir: string;

  constructor(opts: WebHdfsStoreOptions) {
    const root = `/${cleanPath(opts.root ?? '/')}`;
    this.root = root;
    const user = opts.user ?? defaultHdfsUser();
    this.client = new WebHdfsClient({ ...opts, user });
    this.mode = opts.putIfAbsentMode ?? 'rename';
    // The user goes in the authority (webhdfs://user@host:port/dir) so that `${store.url}/${path}`, as
    // messages write it, still reads as a path; a query only for a non-default putIfAbsent mode.
    const scheme = opts.https ? 'swebhdfs' : 'webhdfs';
    const mode = this.mode === 'rename' ? '' : `?putIfAbsent=${this.mode}`;
    this.url = `${scheme}://${encodeURIComponent(user)}@${opts.namenode}${root === '/' ? '' : root}${mode}`;
    this.cacheDir =
      opts.cacheDir ??
      join(
        tmpdir(),
        'lakestream-webhdfs-cache',
        createHash('sha256').update(this.url).digest('hex').slice(0, 16),
      );
  }

  /** The absolute HDFS path of a store path. */
  abs(path: string): string {
    const p = cleanPath(path);
    if (p === '') return this.root;
    return this.root === '/' ? `/${p}` : `${this.root}/${p}`;
  }

  private tempBeside(path: string): string {
    const p = this.abs(path);
    return `${p.slice(0, p.lastIndexOf('/') + 1)}${TEMP_PREFIX}${randomUUID()}`;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    // Walk from the deepest directory the prefix names, then filter by the full prefix.
    const { start: startRel, match } = listScope(prefix);
    const out: ObjectInfo[] = [];
    // Level by level: every directory of one depth is listed in parallel (a few at a time).
    let level = [startRel];
    while (level.length > 0) {
      const next: string[] = [];
      const listings = await mapLimit(level, LIST_CONCURRENCY, (dir) =>
        this.client.listStatus(this.abs(dir)),
      );
      listings.forEach((entries, i) => {
        for (const e of entries ?? []) this.visit(level[i], e, match, out, next);
      });
      level = next;
    }
    return out.sort(byPath);
  }

  private visit(dir: string, e: FileStatus, match: string, out: ObjectInfo[], pending: string[]): void {
    // LISTSTATUS of a file lists the file itself with an empty suffix; a prefix ending in '/' never names a file.
    if (e.pathSuffix === '' || e.pathSuffix.startsWith(TEMP_PREFIX)) return;
    const rel = dir === '' ? e.pathSuffix : `${dir}/${e.pathSuffix}`;
    if (e.type === 'DIRECTORY') {
      if (match === '' || match.startsWith(`${rel}/`) || rel.startsWith(match)) pending.push(rel);
    } else if (rel.startsWith(match)) {
      out.push({ path: rel, size: e.length, modificationTime: e.modificationTime });
    }
  }

  async get(path: string): Promise<Uint8Array> {
    return this.client.open(this.abs(path));
  }

  async stat(path: string): Promise<ObjectInfo | undefined> {
    const s = await this.client.getFileStatus(this.abs(path));
    if (s?.type !== 'FILE') return undefined;
    return { path: cleanPath(path), size: s.length, modificationTime: s.modificationTime };
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    const target = this.abs(path);
    const tmp = this.tempBeside(path);
    try {
      await this.client.create(tmp, data, { overwrite: false });
      await this.client.rename(tmp, target, { overwrite: true });
    } catch (e) {
      await this.client.delete(tmp).catch(() => {});
      throw aboutTarget(e, tmp, target);
    }
  }

  async putIfAbsent(path: string, data: Uint8Array): Promise<PutIfAbsentResult> {
    const target = this.abs(path);
    if (this.mode === 'create') {
      const r = await this.client.create(target, data, { overwrite: false });
      return r === 'created' ? { written: true } : { written: false, reason: 'exists' };
    }
    const tmp = this.tempBeside(path);
    let r: 'renamed' | 'exists';
    try {
      await this.client.create(tmp, data, { overwrite: false });
      r = await this.client.rename(tmp, target, { overwrite: false });
    } catch (e) {
      await this.client.delete(tmp).catch(() => {});
      throw aboutTarget(e, tmp, target);
    }
    if (r === 'renamed') return { written: true };
    await this.client.delete(tmp).catch(() => {});
    return { written: false, reason: 'exists' };
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.abs(from);
    const dst = this.abs(to);
    // rename2 needs the target's parent to exist; MKDIRS of an existing directory is a no-op.
    await this.client.mkdirs(dst.slice(0, dst.lastIndexOf('/')) || '/');
    if ((await this.client.rename(src, dst, { overwrite: false })) === 'exists')
      throw new LakestreamError(
        'CONFLICT',
        `cannot rename ${src} onto an existing object: ${dst} (${this.url})`,
      );
  }

  async delete(path: string): Promise<boolean> {
    return this.client.delete(this.abs(path));
  }

  async localPath(path: string): Promise<string> {
    const info = await this.stat(path);
    if (!info) throw new LakestreamError('NOT_FOUND', `no such object: ${this.abs(path)} (${this.url})`);
    // Keyed by path, size and time: a put that replaces the object gives a new cache entry.
    const key = createHash('sha256')
      .update(`${info.path}\n${info.size}\n${info.modificationTime}`)
      .digest('hex');
    const file = join(this.cacheDir, `${key.slice(0, 32)}${extname(info.path)}`);
    const cached = await stat(file).catch(() => undefined);
    if (cached?.size === info.size) return file;
    await mkdir(this.cacheDir, { recursive: true });
    const tmp = `${file}.${randomUUID()}.part`;
    await writeFile(tmp, await this.get(path));
    await rename(tmp, file);
    return file;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
