// Opens an ObjectStore from a URL: `file:./dir` or `file:///abs/dir`, `memory:name`,
// `webhdfs://host:port/dir[?user=U]`. A bare path means `file:`. Remote implementations load
// lazily (as in transport/open.ts), so a local lake never loads the WebHDFS client.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LakestreamError } from '../errors.ts';
import { parseStoreFaults, STORE_FAULTS_ENV, withStoreFaults } from './faults.ts';
import { LocalStore } from './local.ts';
import { MemoryStore } from './memory.ts';
import type { ObjectStore } from './object-store.ts';
import { withStoreRetries } from './retrying.ts';

export async function openStore(url: string): Promise<ObjectStore> {
  const store = await openPlain(url);
  // the resilience bench's storage faults (full, slow); outside the retries, so a worker sees a full
  // disk at once, as on a local one. Unset in normal use.
  const faults = parseStoreFaults(process.env[STORE_FAULTS_ENV]);
  return faults ? withStoreFaults(store, faults) : store;
}

async function openPlain(url: string): Promise<ObjectStore> {
  if (url.startsWith('memory:')) return new MemoryStore(url.slice('memory:'.length) || undefined);
  if (url.startsWith('file:')) {
    const rest = url.slice('file:'.length);
    const path = rest.startsWith('//') ? fileURLToPath(url) : resolve(rest);
    return new LocalStore(path);
  }
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) return new LocalStore(resolve(url));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new LakestreamError('BAD_ARGUMENT', `not a storage URL: ${url}`, { cause: e });
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== 'webhdfs' && scheme !== 'swebhdfs')
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `unknown storage scheme "${scheme}:" in ${url} (use file:DIR, memory:NAME or webhdfs://HOST:PORT/DIR)`,
    );
  const { openWebHdfs } = await import('./webhdfs/index.ts');
  // Remote stores have outages (a NameNode restart, safe mode, a dead DataNode): ride them out.
  // `?retry=0` turns this off (tests of the raw failures).
  const store: ObjectStore = openWebHdfs(parsed);
  return parsed.searchParams.get('retry') === '0' ? store : withStoreRetries(store);
}
