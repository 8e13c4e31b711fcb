// Kafka's, Hadoop's and Spark's jars: fetched once by Maven from Maven Central (poms pinned here), cached,
// and turned into a Java classpath. Each part has its own folder: Kafka's tools use Jetty 12, Hadoop Jetty 9.4.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LakestreamError } from '../errors.ts';
import type { Part } from './config.ts';
import { withClusterLock } from './lock.ts';

export type Log = (line: string) => void;

const LABEL: Record<Part, string> = {
  kafka: 'Apache Kafka',
  hdfs: 'Apache Hadoop HDFS',
  spark: 'Apache Spark + Delta Lake',
};

export function pomPath(part: Part): string {
  return join(import.meta.dirname, part, 'pom.xml');
}

/** The pinned version: the pom's own <version>, kept equal to the Kafka, Hadoop or Spark version it fetches. */
export function pinnedVersion(part: Part): string {
  const pom = readFileSync(pomPath(part), 'utf8');
  const m = /<\/modelVersion>[\s\S]*?<version>([^<]+)<\/version>/.exec(pom);
  if (!m) throw new LakestreamError('INTERNAL', `no <version> in ${pomPath(part)}`);
  return m[1];
}

export function jarCacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lakestream', 'jars');
}

/** ~/.cache/lakestream/jars/<part>-<version> */
export function jarDir(part: Part): string {
  return join(jarCacheRoot(), `${part}-${pinnedVersion(part)}`);
}

const MARKER = '.complete';

function pomHash(part: Part): string {
  return createHash('sha256')
    .update(readFileSync(pomPath(part)))
    .digest('hex')
    .slice(0, 16);
}

/** True when the jars of this pom are already in the cache. */
export function jarsCached(part: Part): boolean {
  const marker = join(jarDir(part), MARKER);
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === pomHash(part);
}

/**
 * Fetches the part's jars into the cache unless they are there; returns the folder.
 * Safe with concurrent callers: they take turns on a lock file, and the fetch goes into a temporary
 * folder renamed into place, so an interrupted fetch leaves nothing half-done.
 */
export async function ensureJars(part: Part, log: Log = () => {}): Promise<string> {
  if (jarsCached(part)) return jarDir(part);
  // one Maven at a time per part: two writing the same ~/.m2 files at once is not safe
  return withClusterLock(jarCacheRoot(), () => fetchJars(part, log), {
    name: `fetch-${part}.lock`,
    onWait: () => log(`waiting for another lakestream fetching the ${LABEL[part]} jars …`),
  });
}

async function fetchJars(part: Part, log: Log): Promise<string> {
  const dir = jarDir(part);
  if (jarsCached(part)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  const started = Date.now();
  log(`fetching ${LABEL[part]} ${pinnedVersion(part)} jars from Maven Central with Maven (first use only) …`);
  const ticker = setInterval(
    () => log(`  … still fetching ${LABEL[part]} jars (${Math.round((Date.now() - started) / 1000)} s)`),
    10_000,
  );
  try {
    await runMaven(part, tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    clearInterval(ticker);
  }
  await writeFile(join(tmp, MARKER), `${pomHash(part)}\n`);
  if (jarsCached(part)) {
    // another caller finished first
    await rm(tmp, { recursive: true, force: true });
  } else {
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      if (!jarsCached(part))
        throw new LakestreamError('INTERNAL', `cannot move fetched jars into ${dir}`, { cause: e });
    }
  }
  const count = readdirSync(dir).filter((f) => f.endsWith('.jar')).length;
  log(`fetched ${count} jars into ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

function runMaven(part: Part, outDir: string): Promise<void> {
  const args = [
    '-q',
    '-B',
    // no ANSI colours in the output we quote in errors
    '-Dstyle.color=never',
    '-f',
    pomPath(part),
    'dependency:copy-dependencies',
    `-DoutputDirectory=${outDir}`,
    '-DincludeScope=runtime',
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new LakestreamError(
          e.code === 'ENOENT' ? 'UNAVAILABLE' : 'INTERNAL',
          e.code === 'ENOENT'
            ? 'Maven ("mvn") is not on PATH; it fetches the cluster jars from Maven Central (Debian: apt-get install maven)'
            : `cannot run mvn: ${e.message}`,
          { cause: e, retriable: false },
        ),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new LakestreamError(
            'UNAVAILABLE',
            `mvn could not fetch the jars of ${pomPath(part)} (exit ${code}):\n${output.trim().slice(-3000)}`,
          ),
        );
    });
  });
}

/**
 * The classpath of a part: `extra` folders first (configuration), then the jars sorted by name, and
 * test jars last (Hadoop's webapps — WebHDFS, the web UI — ship only in hadoop-hdfs's test jar).
 */
export function classpath(jarFolder: string, extra: string[] = []): string {
  const jars = readdirSync(jarFolder)
    .filter((f) => f.endsWith('.jar'))
    .sort();
  const tests = jars.filter((f) => f.endsWith('-tests.jar'));
  const main = jars.filter((f) => !f.endsWith('-tests.jar'));
  return [...extra, ...[...main, ...tests].map((f) => join(jarFolder, f))].join(':');
}
