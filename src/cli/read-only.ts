// Read-only commands never create what they read: a missing transport folder or local lake is an
// error (or an empty section), not a new empty one made by opening it.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of an embedded transport URL, when it does not exist (undefined otherwise, or for Kafka). */
export function missingTransportDir(url: string): string | undefined {
  if (!url.startsWith('embedded:')) return undefined;
  const dir = resolve(url.slice('embedded:'.length).replace(/#ns=.*$/, ''));
  return existsSync(dir) ? undefined : dir;
}

/** The folder of a local lake URL (file:DIR or a bare path), when it does not exist. */
export function missingLakeDir(url: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !url.startsWith('file:')) return undefined;
  const rest = url.startsWith('file:') ? url.slice(5) : url;
  const dir = rest.startsWith('//') ? fileURLToPath(url) : resolve(rest);
  return existsSync(dir) ? undefined : dir;
}
