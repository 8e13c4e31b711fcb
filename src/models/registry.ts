// The model registry in the lake's storage: models/<name>/v<N>/{model.json,metrics.json} and
// models/<name>/LATEST (text: the version number). Versions are allocated by putIfAbsent of
// v<N>/model.json, so concurrent registrations never share a version; LATEST only moves forward.

import { LakestreamError } from '../errors.ts';
import { joinPath, type ObjectStore } from '../storage/index.ts';

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const enc = new TextEncoder();
const dec = new TextDecoder();

function checkName(name: string): void {
  if (!NAME_RE.test(name))
    throw new LakestreamError('BAD_ARGUMENT', `model name "${name}" must be 1-64 chars of a-z, 0-9, _ and -`);
}

const modelDir = (name: string) => joinPath('models', name);
const versionDir = (name: string, v: number) => joinPath('models', name, `v${v}`);

/** Every version that has a model.json, ascending. */
async function versions(store: ObjectStore, name: string): Promise<number[]> {
  const out: number[] = [];
  for (const o of await store.list(modelDir(name) + '/')) {
    const m = /\/v(\d+)\/model\.json$/.exec(o.path);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

async function readLatestFile(store: ObjectStore, name: string): Promise<number | undefined> {
  const path = joinPath(modelDir(name), 'LATEST');
  if (!(await store.stat(path))) return undefined;
  const text = dec.decode(await store.get(path)).trim();
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1)
    throw new LakestreamError(
      'CORRUPT_TABLE',
      `${store.url}/${path} should hold a version number, holds "${text.slice(0, 40)}"`,
    );
  return v;
}

/**
 * Registers a model as the next version and points LATEST at it (unless a newer one already is).
 * `prepare` writes more into the version's folder (e.g. Spark's saved model) before LATEST moves; when
 * it fails, the version's model.json goes again and nothing is registered.
 */
export async function registerModel(
  store: ObjectStore,
  name: string,
  model: object,
  metrics: object,
  prepare?: (versionDir: string) => Promise<void>,
): Promise<number> {
  checkName(name);
  const body = enc.encode(JSON.stringify(model));
  const existing = await versions(store, name);
  let v = (existing.at(-1) ?? 0) + 1;
  // putIfAbsent decides who owns a version number; a loser simply tries the next one
  for (;;) {
    const r = await store.putIfAbsent(joinPath(versionDir(name, v), 'model.json'), body);
    if (r.written) break;
    v++;
  }
  if (prepare)
    try {
      await prepare(versionDir(name, v));
    } catch (e) {
      await store.delete(joinPath(versionDir(name, v), 'model.json')).catch(() => {});
      throw e;
    }
  await store.put(
    joinPath(versionDir(name, v), 'metrics.json'),
    enc.encode(JSON.stringify({ ...metrics, version: v })),
  );
  await advanceLatest(store, name, v);
  return v;
}

/** Moves LATEST to `v` unless it already names a newer version (put is atomic; re-check after writing). */
async function advanceLatest(store: ObjectStore, name: string, v: number): Promise<void> {
  const path = joinPath(modelDir(name), 'LATEST');
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await readLatestFile(store, name);
    if (current !== undefined && current >= v) return;
    await store.put(path, enc.encode(`${v}\n`));
    // a concurrent registration of a newer version may have written its LATEST before ours: restore it
    const newest = (await versions(store, name)).at(-1) ?? v;
    if (newest <= v) return;
    v = newest;
  }
}

/** The version LATEST names, or the highest registered one when LATEST is missing; undefined when none is. */
export async function latestModelVersion(store: ObjectStore, name: string): Promise<number | undefined> {
  checkName(name);
  return (await readLatestFile(store, name)) ?? (await versions(store, name)).at(-1);
}

/** Loads a version (LATEST by default); undefined when no model is registered under that name / version. */
export async function loadModelJson(
  store: ObjectStore,
  name: string,
  version?: number,
): Promise<{ version: number; model: object; metrics: object } | undefined> {
  const v = version ?? (await latestModelVersion(store, name));
  if (v === undefined) return undefined;
  const dir = versionDir(name, v);
  if (!(await store.stat(joinPath(dir, 'model.json')))) return undefined;
  const parse = async (file: string): Promise<object> => {
    const path = joinPath(dir, file);
    if (!(await store.stat(path))) return {};
    try {
      return JSON.parse(dec.decode(await store.get(path)));
    } catch (e) {
      throw new LakestreamError('CORRUPT_TABLE', `${store.url}/${path} is not valid JSON`, { cause: e });
    }
  };
  return { version: v, model: await parse('model.json'), metrics: await parse('metrics.json') };
}

/** The last retrain after a month closed: which month, and whether it registered a version or why not. */
export interface RetrainRecord {
  /** the closed month ('YYYY-MM') the retrain was for */
  month: string;
  ok: boolean;
  /** the version it registered (when ok) */
  version?: number;
  /** why it failed (when not ok); the previous version stays LATEST */
  error?: string;
  at: string;
}

const retrainPath = (name: string) => joinPath(modelDir(name), 'RETRAIN.json');

/** Records the last retrain in the registry: a restarted worker reads it instead of retraining again. */
export async function recordRetrain(store: ObjectStore, name: string, rec: RetrainRecord): Promise<void> {
  checkName(name);
  await store.put(retrainPath(name), enc.encode(JSON.stringify(rec)));
}

/** The last retrain recorded, or undefined when none was. */
export async function readRetrain(store: ObjectStore, name: string): Promise<RetrainRecord | undefined> {
  checkName(name);
  const path = retrainPath(name);
  if (!(await store.stat(path))) return undefined;
  try {
    return JSON.parse(dec.decode(await store.get(path)));
  } catch (e) {
    throw new LakestreamError('CORRUPT_TABLE', `${store.url}/${path} is not valid JSON`, { cause: e });
  }
}
