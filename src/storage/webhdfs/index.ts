// WebHDFS storage: opens `webhdfs://host:port/dir?user=U&timeout=MS&putIfAbsent=rename|create` URLs
// (or `webhdfs://U@host:port/dir`; `swebhdfs://` for https). Loaded lazily by ../open.ts.

import { LakestreamError } from '../../errors.ts';
import { type PutIfAbsentMode, WebHdfsStore, type WebHdfsStoreOptions } from './store.ts';

export { type FileStatus, WebHdfsClient, type WebHdfsClientOptions } from './client.ts';
export { defaultHdfsUser, type PutIfAbsentMode, WebHdfsStore, type WebHdfsStoreOptions } from './store.ts';

/** Options from a `webhdfs://` URL; `extra` (e.g. a delegation token hook) is merged over them. */
export function webHdfsOptionsFromUrl(
  url: URL,
  extra: Partial<WebHdfsStoreOptions> = {},
): WebHdfsStoreOptions {
  if (url.protocol !== 'webhdfs:' && url.protocol !== 'swebhdfs:')
    throw new LakestreamError('BAD_ARGUMENT', `not a webhdfs URL: ${url.href}`);
  if (!url.hostname)
    throw new LakestreamError('BAD_ARGUMENT', `webhdfs URL needs a NameNode host:port: ${url.href}`);
  const port = url.port || (url.protocol === 'swebhdfs:' ? '9871' : '9870');
  const timeout = url.searchParams.get('timeout');
  if (timeout !== null && !(Number(timeout) > 0))
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `timeout must be a positive number of milliseconds in ${url.href}`,
    );
  const mode = url.searchParams.get('putIfAbsent');
  if (mode !== null && mode !== 'rename' && mode !== 'create')
    throw new LakestreamError('BAD_ARGUMENT', `putIfAbsent must be rename or create in ${url.href}`);
  return {
    namenode: `${url.hostname}:${port}`,
    https: url.protocol === 'swebhdfs:',
    root: decodeURIComponent(url.pathname || '/'),
    user: url.searchParams.get('user') ?? (url.username ? decodeURIComponent(url.username) : undefined),
    timeoutMs: timeout === null ? undefined : Number(timeout),
    putIfAbsentMode: (mode ?? undefined) as PutIfAbsentMode | undefined,
    ...extra,
  };
}

export function openWebHdfs(url: string | URL, extra: Partial<WebHdfsStoreOptions> = {}): WebHdfsStore {
  return new WebHdfsStore(webHdfsOptionsFromUrl(typeof url === 'string' ? new URL(url) : url, extra));
}
