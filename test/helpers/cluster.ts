// ensureCluster: integration tests get a real Kafka, HDFS and/or Spark from `lakestream cluster up`, started
// once per test run however many test files ask at once, and stopped by scripts/test.ts at the end.
// privateKafkaCluster: a Kafka of a test file's own, for tests that kill its brokers.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { clusterDown, clusterUp } from '../../src/cluster/cluster.ts';
import {
  ALL_PARTS,
  type ClusterConfig,
  clusterPorts,
  defaultConfig,
  highestOffsetBelow,
  type Part,
  partOf,
} from '../../src/cluster/config.ts';
import { ephemeralPortRange, portOpen } from '../../src/cluster/processes.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** The cluster tests share: LAKESTREAM_CLUSTER_DIR, else the project's default ./.lakestream/cluster. */
export function testClusterDir(): string {
  return resolve(ROOT, process.env.LAKESTREAM_CLUSTER_DIR ?? '.lakestream/cluster');
}

/** One file per test run (scripts/test.ts's pid, in LAKESTREAM_TEST_RUN, or a lone test file's pid) using the cluster. */
function testRunsDir(dir: string): string {
  return join(dir, 'test-runs');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lists the parts the tests started (one per line); scripts/test.ts stops those at the end. */
export function startedByTestsFile(dir: string = testClusterDir()): string {
  return join(dir, 'started-by-tests');
}

/**
 * A port offset for a cluster of a test file's own at which no port is taken (other engineers run
 * clusters of their own), every port below the kernel's ephemeral range: there another program's
 * connection, or Spark's own driver, may take a port between this check and the node's start (CI saw
 * Spark Connect fail to bind 36502 at offset 21,500). The search starts above the fixed offsets other
 * test files use (1,100-3,300).
 */
export async function freePortOffset(first = 4_000): Promise<number> {
  const last = highestOffsetBelow(ephemeralPortRange()?.[0] ?? 32_768);
  for (let offset = first; offset <= last; offset += 1_000) {
    const ports = clusterPorts(defaultConfig('/unused', offset));
    const taken = await Promise.all(ports.map((p) => portOpen('127.0.0.1', p, 300)));
    if (!taken.some(Boolean)) return offset;
  }
  throw new Error(`no free port range for a test cluster at offsets ${first}-${last}`);
}

export interface TestCluster {
  /** `127.0.0.1:9092,127.0.0.1:9094` */
  kafkaBootstrap: string;
  /** `webhdfs://127.0.0.1:9870` — append `/<dir>?user=<hdfsUser>` for a lake URL */
  webhdfsUrl: string;
  /** the cluster directory (logs in <dir>/logs/<node>.log) */
  dir: string;
  /** `kafka://127.0.0.1:9092,127.0.0.1:9094`, a --transport value */
  kafkaUrl: string;
  /** `http://127.0.0.1:9870`, the NameNode's HTTP address (WebHDFS under /webhdfs/v1, JMX under /jmx) */
  namenodeHttp: string;
  /** HDFS superuser, for `user.name=` / `?user=` */
  hdfsUser: string;
  /** `hdfs://127.0.0.1:8020`, where Spark reads the files lakestream writes through WebHDFS */
  hdfsUrl: string;
  /** `sc://127.0.0.1:15002`, the Spark Connect server (when Spark was asked for) */
  sparkConnectUrl: string;
}

let pending: Promise<unknown> = Promise.resolve();

/**
 * Starts the parts of the local cluster that are not running (idempotent: a running cluster is only
 * checked), and resolves once they are healthy. Concurrent callers, in this process or in other test
 * files, take turns on the cluster's lock file, so it starts once. It stays up for the rest of the run.
 */
export function ensureCluster(parts: {
  kafka?: boolean;
  hdfs?: boolean;
  spark?: boolean;
}): Promise<TestCluster> {
  const wanted: Part[] = ALL_PARTS.filter((p) => parts[p]);
  const dir = testClusterDir();
  const run = pending.then(async () => {
    // the run of scripts/test.ts, or this process when a test file runs on its own (node --test FILE):
    // a run that ends does not stop the cluster while another one still uses it
    const user = process.env.LAKESTREAM_TEST_RUN ?? String(process.pid);
    await mkdir(testRunsDir(dir), { recursive: true });
    await writeFile(join(testRunsDir(dir), user), '');
    const r = await clusterUp({
      dir,
      parts: wanted.length > 0 ? wanted : undefined,
      log: (line) => process.stderr.write(`[cluster] ${line}\n`),
    });
    const startedParts = [...new Set(r.started.map(partOf))];
    if (startedParts.length > 0) {
      await mkdir(dir, { recursive: true });
      await appendFile(startedByTestsFile(dir), startedParts.map((p) => `${p}\n`).join(''));
    }
    const host = r.webhdfsUrl.replace(/^http:\/\//, '');
    return {
      kafkaBootstrap: r.kafkaBootstrap,
      webhdfsUrl: `webhdfs://${host}`,
      dir: r.config.dir,
      kafkaUrl: `kafka://${r.kafkaBootstrap}`,
      namenodeHttp: r.webhdfsUrl,
      hdfsUser: r.config.hdfs.user,
      hdfsUrl: `hdfs://${r.config.host}:${r.config.hdfs.rpcPort}`,
      sparkConnectUrl: r.sparkConnectUrl,
    };
  });
  pending = run.catch(() => {});
  return run;
}

/**
 * For scripts/test.ts at the end of a run: stops the parts the tests started (never a cluster that ran
 * before), unless another test run still uses it — then the last run to finish stops it.
 */
export async function stopClusterStartedByTests(
  log: (line: string) => void = () => {},
  testRun: number = process.pid,
): Promise<void> {
  const dir = testClusterDir();
  await rm(join(testRunsDir(dir), String(testRun)), { force: true });
  const entries = existsSync(testRunsDir(dir)) ? readdirSync(testRunsDir(dir)) : [];
  const others: string[] = [];
  for (const f of entries) {
    if (Number(f) === testRun) continue;
    if (pidAlive(Number(f))) others.push(f);
    else await rm(join(testRunsDir(dir), f), { force: true }); // a run that ended without cleaning up
  }
  if (others.length > 0) {
    log(`the test cluster in ${dir} stays up: test run ${others.join(', ')} still uses it`);
    return;
  }
  const file = startedByTestsFile(dir);
  if (!existsSync(file)) return;
  const parts = [
    ...new Set(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((p): p is Part => (ALL_PARTS as readonly string[]).includes(p)),
    ),
  ];
  await rm(file, { force: true });
  if (parts.length === 0) return;
  log(`stopping the test cluster (${parts.join(', ')}) in ${dir}`);
  await clusterDown({ dir, parts, log });
}

/**
 * A Kafka cluster of the test file's own (a temp directory, ports at `portOffset`), so its outages never
 * reach other tests: up before the file's tests, wiped after. Its fields are set once `before` ran.
 */
export function privateKafkaCluster(
  name: string,
  portOffset: number,
  opts: { brokers?: number } = {},
): { dir: string; bootstrap: string; config: ClusterConfig } {
  const log = (line: string) => process.stderr.write(`[${name} cluster] ${line}\n`);
  const c = { dir: '', bootstrap: '', config: undefined as unknown as ClusterConfig };
  before(async () => {
    c.dir = await mkdtemp(join(tmpdir(), `lakestream-${name}-`));
    const r = await clusterUp({ dir: c.dir, parts: ['kafka'], portOffset, brokers: opts.brokers, log });
    c.bootstrap = r.kafkaBootstrap;
    c.config = r.config;
  });
  after(async () => {
    if (c.dir) await clusterDown({ dir: c.dir, parts: ['kafka'], wipe: true, log });
  });
  return c;
}

/**
 * What the Spark Connect server's threads that run operations are doing (and any blocked thread), from
 * a `jcmd Thread.print` of its JVM: for a test to print when a Spark call hangs. Never throws.
 */
export async function sparkConnectThreads(dir: string, maxChars = 8_000): Promise<string> {
  const pidFile = join(dir, 'run', 'spark-connect.pid');
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    const dump = await new Promise<string>((ok, fail) =>
      execFile('jcmd', [pid, 'Thread.print'], { maxBuffer: 64 << 20, timeout: 30_000 }, (e, out) =>
        e ? fail(e) : ok(out),
      ),
    );
    const threads = dump
      .split('\n\n')
      .filter((t) => /^"SparkConnectExecuteThread|java\.lang\.Thread\.State: BLOCKED/m.test(t))
      .map((t) => t.split('\n').slice(0, 30).join('\n'));
    return `Spark Connect's operation and blocked threads (pid ${pid}):\n${threads.join('\n\n') || '(none)'}`.slice(
      0,
      maxChars,
    );
  } catch (e) {
    return `no thread dump of Spark Connect (${pidFile}): ${(e as Error).message}`;
  }
}
