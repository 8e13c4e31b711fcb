// `npm run gen:spark`: regenerates src/engine/spark/gen/ from the .proto files inside the pinned
// spark-connect jar, with buf's compiler and protoc-gen-es (JS + .d.ts: TS enums are not erasable).
// `--out DIR` writes elsewhere (the test that gen/ is what the generator makes compares the two).

import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { openPromise } from 'yauzl';

const SPARK = '4.0.1';
const ARTIFACT = `org.apache.spark:spark-connect_2.13:${SPARK}`;
const JAR = `spark-connect_2.13-${SPARK}.jar`;
const root = join(import.meta.dirname, '..');
const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : join(root, 'src', 'engine', 'spark', 'gen');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

/** The jar from the cluster's jar cache, else the local Maven repository, else fetched by Maven. */
function findJar(): string {
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lakestream', 'jars');
  const m2 = join(homedir(), '.m2', 'repository', 'org', 'apache', 'spark', 'spark-connect_2.13', SPARK, JAR);
  for (const c of [join(cache, `spark-${SPARK}`, JAR), m2]) if (existsSync(c)) return c;
  console.log(`fetching ${ARTIFACT} with Maven …`);
  const r = spawnSync('mvn', ['-q', 'dependency:get', `-Dartifact=${ARTIFACT}`, '-Dtransitive=false'], {
    stdio: 'inherit',
  });
  if (r.status !== 0 || !existsSync(m2)) throw new Error(`could not fetch ${ARTIFACT} with Maven`);
  return m2;
}

/**
 * Spark Connect's own protos (spark/connect/*.proto, less the server plugin example), and the
 * google.rpc error details its errors carry (ErrorInfo); the jar holds both.
 */
async function extractProtos(jar: string, dir: string): Promise<string[]> {
  const zip = await openPromise(jar, { autoClose: false });
  const names: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const ours = /^spark\/connect\/[a-z_]+\.proto$/.test(entry.fileName);
      if (!ours && entry.fileName !== 'google/rpc/error_details.proto') continue;
      if (entry.fileName.endsWith('example_plugins.proto')) continue;
      const dest = join(dir, entry.fileName);
      await mkdir(dirname(dest), { recursive: true });
      await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(dest));
      names.push(entry.fileName);
    }
  } finally {
    zip.close();
  }
  return names.sort();
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
}

const jar = findJar();
const work = await mkdtemp(join(tmpdir(), 'spark-connect-protos-'));
try {
  const protos = await extractProtos(jar, join(work, 'proto'));
  console.log(`${protos.length} protos from ${jar}`);
  const template = {
    version: 'v2',
    plugins: [{ local: bin('protoc-gen-es'), out, opt: ['target=js+dts', 'import_extension=js'] }],
  };
  // gen/biome.json (written by hand, kept) tells Biome to leave the generated files as they are
  for (const f of existsSync(out) ? readdirSync(out) : []) {
    if (f !== 'biome.json') await rm(join(out, f), { recursive: true });
  }
  run(bin('buf'), ['generate', join(work, 'proto'), '--template', JSON.stringify(template)]);
  await writeFile(join(out, 'SOURCE'), `${ARTIFACT}\n${protos.join('\n')}\n`);
  const files = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) =>
    /\.(js|d\.ts)$/.test(f),
  );
  console.log(`wrote ${files.length} files to ${out}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
