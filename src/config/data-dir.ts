// Where the real sample data lives: --data DIR, else ../shared/data beside the project, else none
// (then the demo runs on the built-in simulator).

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function findDataDir(flag?: string): string | undefined {
  const candidates = [flag, process.env.LAKESTREAM_DATA, resolve('../shared/data')].filter(
    Boolean,
  ) as string[];
  return candidates.find((d) => existsSync(join(d, 'meters')));
}

export function londonFile(dataDir: string | undefined, name: string): string | undefined {
  if (!dataDir) return undefined;
  const p = join(dataDir, 'meters', 'london', name);
  return existsSync(p) ? p : undefined;
}
