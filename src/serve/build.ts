// Builds the dashboard (src/serve/web → src/serve/web/dist) with esbuild: on demand at server start
// when dist is missing or older than a source, and by `npm run build:web`.

import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), 'web');
export const DIST_DIR = join(WEB_DIR, 'dist');
const OUTPUTS = ['app.js', 'app.css'];

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === 'dist') continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? await newestSource(p) : (await stat(p)).mtimeMs);
  }
  return newest;
}

/** True when dist holds every output and each is newer than every source file. */
export async function distIsFresh(): Promise<boolean> {
  try {
    const src = await newestSource(WEB_DIR);
    for (const f of OUTPUTS) if ((await stat(join(DIST_DIR, f))).mtimeMs < src) return false;
    return true;
  } catch {
    return false;
  }
}

/** Bundles the front end; outputs are renamed into place so a concurrent reader never sees half a file. */
export async function buildWeb(opts: { minify?: boolean } = {}): Promise<{ files: string[]; ms: number }> {
  const started = performance.now();
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: join(WEB_DIR, 'main.ts') },
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: false,
    write: false,
    outdir: DIST_DIR,
    loader: { '.css': 'css' },
    logLevel: 'silent',
  });
  await mkdir(DIST_DIR, { recursive: true });
  const files: string[] = [];
  for (const f of result.outputFiles) {
    const tmp = `${f.path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, f.contents);
    await rename(tmp, f.path);
    files.push(f.path);
  }
  return { files, ms: Math.round(performance.now() - started) };
}

/** Builds only when needed (the server calls this at start). */
export async function ensureWebBuilt(log: (msg: string) => void = () => {}): Promise<void> {
  if (await distIsFresh()) return;
  const r = await buildWeb();
  log(`built the dashboard in ${r.ms} ms (${r.files.length} files in ${DIST_DIR})`);
}

if (import.meta.main) {
  const r = await buildWeb();
  console.error(`built ${r.files.map((f) => f.replace(`${WEB_DIR}/`, '')).join(', ')} in ${r.ms} ms`);
}
