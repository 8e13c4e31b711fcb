// The memory `bench train` and `bench batch` give their two engines, chosen together (issue 14). At
// 30,000 meters DuckDB (its default memory_limit, 80 % of RAM) reached 13 GB building the training set
// while Spark's executor had 9 GB, and the 24 GB machine nearly ran out: neither engine knew of the
// other. A budget (--memory MB; by default half of the memory the machine has available when the bench
// starts) is split between DuckDB's memory_limit and Spark's executor; DuckDB spills past its share to a
// directory under the bench's lakes (not the cwd). The report names each engine's memory, threads and
// spill directory, and the peak RSS each reached.
//
// memory_limit does not bound everything: the training set's build (models/consumption/sql-features.ts,
// `cum`) keeps a median state per meter-month and day, whose buffered values DuckDB (1.5) tracks but
// cannot spill. At 30,000 meters it ran out of a 4 GB limit, and under a 6 GB one its RSS passed 10 GB
// (measured on 2026-12-07): the report's peak RSS is what to read, not the limit.
//
// DuckDB's settings are set on the bench process's own instance (one per process, lake/duck.ts): the
// stream workers and the API are other processes and keep theirs.

import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { freemem } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_CLUSTER_DIR, loadConfig } from '../cluster/config.ts';
import { LakestreamError } from '../errors.ts';
import { configureDuck, type DuckSettings } from '../lake/index.ts';
import { benchLakesDir } from './gen-lake.ts';
import { procStat } from './processes.ts';

/** The least an engine is given: Spark's executor refuses less than 512 MB (cluster up --spark-memory). */
export const MIN_ENGINE_MB = 512;

/** MB the machine has available now (MemAvailable: free memory plus what the page cache would give back). */
export function availableMb(meminfo?: string): number {
  let text = meminfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/meminfo', 'utf8');
    } catch {
      return Math.floor(freemem() / 2 ** 20);
    }
  }
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(text);
  return m ? Math.floor(Number(m[1]) / 1024) : Math.floor(freemem() / 2 ** 20);
}

/**
 * The default budget: half of what is available, in whole 256 MB steps. The other half is for what
 * comes on top of the engines' shares (the JVMs' memory beyond their heaps, Spark's driver, Node) and
 * for whatever else shares the machine.
 */
export function defaultBudgetMb(available: number): number {
  return Math.max(2 * MIN_ENGINE_MB, Math.floor(available / 2 / 256) * 256);
}

export interface MemorySplit {
  /** DuckDB's memory_limit, MB (when DuckDB runs) */
  duckdbMb?: number;
  /** Spark's executor memory, MB (when Spark runs and its memory is known) */
  sparkMb?: number;
}

/**
 * Splits `budgetMb` between the engines that run. Both: half each — unless Spark's executor already has
 * its memory (a cluster that is up), then DuckDB gets what is left. Spark on a remote master
 * (`sparkFixedMb` null): its memory is not ours to know, DuckDB gets half.
 */
export function splitBudget(
  budgetMb: number,
  engines: { duckdb: boolean; spark: boolean; sparkFixedMb?: number | null },
): MemorySplit {
  const { duckdb, spark } = engines;
  const fixed = engines.sparkFixedMb;
  if (!spark) return duckdb ? { duckdbMb: checked(budgetMb, 'DuckDB') } : {};
  if (fixed === null) return duckdb ? { duckdbMb: checked(Math.floor(budgetMb / 2), 'DuckDB') } : {};
  if (fixed !== undefined) {
    if (!duckdb) return { sparkMb: fixed };
    const left = budgetMb - fixed;
    if (left < MIN_ENGINE_MB)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `the running cluster's Spark executor has ${fixed} MB of the ${budgetMb} MB budget, which leaves DuckDB ${left} MB (at least ${MIN_ENGINE_MB}): give a larger --memory, or stop the cluster so the bench starts it with its share`,
      );
    return { duckdbMb: left, sparkMb: fixed };
  }
  if (!duckdb) return { sparkMb: checked(budgetMb, 'Spark') };
  const half = Math.floor(budgetMb / 2);
  return { duckdbMb: checked(half, 'DuckDB'), sparkMb: checked(budgetMb - half, 'Spark') };
}

function checked(mb: number, engine: string): number {
  if (mb < MIN_ENGINE_MB)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `a --memory budget that gives ${engine} ${mb} MB is too small: each engine needs at least ${MIN_ENGINE_MB} MB`,
    );
  return mb;
}

/** What the report says of the memory: the budget, and per engine its memory, threads and spill directory. */
export interface MemoryReport {
  budgetMb: number;
  /** --memory, or the default's derivation */
  budgetFrom: string;
  duckdb?: {
    memoryLimit: string;
    threads: number;
    tempDirectory: string;
  };
  spark?: {
    /** the executor's memory (spark.executor.memory), MB; null when not known (a remote master) */
    executorMemoryMb: number | null;
    /** the cores the executor has (the worker's) */
    cores: number | null;
    /** where the executor spills (SPARK_LOCAL_DIRS); null when not known */
    localDir: string | null;
    /** the bench started the cluster with this share, or found it running and reports what it has */
    from: 'started by the bench' | 'the running cluster' | 'a remote master';
  };
}

/** The local cluster a bench's Spark runs on (LAKESTREAM_CLUSTER_DIR), and whether its Spark is up. */
export async function localSpark(): Promise<{ dir: string; running: boolean; executorMb?: number }> {
  const dir = resolve(process.env.LAKESTREAM_CLUSTER_DIR ?? DEFAULT_CLUSTER_DIR);
  const c = loadConfig(dir);
  if (!c) return { dir, running: false };
  const { alivePid } = await import('../cluster/processes.ts');
  const running = alivePid(dir, 'spark-connect') !== undefined;
  return { dir, running, executorMb: running ? c.spark.executorMemoryMb : undefined };
}

/** The Spark side of the report, from the saved configuration of the local cluster in `dir` (none: a remote master). */
export async function sparkReport(
  sparkUrl: string,
  from: 'started by the bench' | 'the running cluster' | 'a remote master',
  dir?: string,
): Promise<NonNullable<MemoryReport['spark']>> {
  if (from === 'a remote master' || dir === undefined)
    return { executorMemoryMb: null, cores: null, localDir: null, from: 'a remote master' };
  const c = loadConfig(dir);
  if (!c) throw new LakestreamError('UNAVAILABLE', `no cluster configuration in ${dir} for ${sparkUrl}`);
  const { sparkDir } = await import('../cluster/spark.ts');
  return {
    executorMemoryMb: c.spark.executorMemoryMb,
    cores: c.spark.workerCores,
    localDir: join(sparkDir(c), 'tmp'),
    from,
  };
}

/**
 * Gives the bench process's DuckDB its share and a spill directory of its own under the bench's lakes
 * (removed by the returned function). Returns the settings as DuckDB reads them back.
 */
export async function applyDuckShare(
  memoryMb: number,
): Promise<{ settings: DuckSettings; remove: () => Promise<void> }> {
  const spill = join(benchLakesDir(), `.spill-duckdb-${process.pid}`);
  await mkdir(spill, { recursive: true });
  const settings = await configureDuck({ memoryLimitMb: memoryMb, tempDirectory: spill });
  return { settings, remove: () => rm(spill, { recursive: true, force: true }) };
}

/** The largest resident memory of some processes, sampled every `everyMs` until stopped (MiB per name). */
export function peakRss(
  pids: () => Record<string, number[]>,
  everyMs = 1000,
): { stop: () => Promise<Record<string, number>> } {
  const peak: Record<string, number> = {};
  const sample = async () => {
    for (const [name, list] of Object.entries(pids())) {
      let sum = 0;
      let seen = false;
      for (const pid of list) {
        const s = await procStat(pid);
        if (s) {
          sum += s.rssMiB;
          seen = true;
        }
      }
      if (seen) peak[name] = Math.max(peak[name] ?? 0, sum);
    }
  };
  let pending = sample();
  const timer = setInterval(() => {
    pending = pending.then(sample);
  }, everyMs);
  // a run that fails before stop() must not be held open by its sampler
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await pending;
      await sample();
      return peak;
    },
  };
}

/** Runs `run` with peakRss sampling `pids` around it; the sampler stops whether the run returns or throws. */
export async function withPeakRss<T>(
  pids: () => Record<string, number[]>,
  run: () => Promise<T>,
): Promise<{ value: T; peakMiB: Record<string, number> }> {
  const rss = peakRss(pids);
  try {
    const value = await run();
    return { value, peakMiB: await rss.stop() };
  } catch (err) {
    await rss.stop();
    throw err;
  }
}

/** The processes whose RSS is each engine's: this process (DuckDB runs in it) and the cluster's executor and driver. */
export async function enginePids(clusterDir: string | undefined): Promise<() => Record<string, number[]>> {
  const { alivePid, taggedPids } = await import('../cluster/processes.ts');
  return () => {
    const out: Record<string, number[]> = { 'bench (DuckDB)': [process.pid] };
    if (clusterDir) {
      out['spark-executor'] = taggedPids(clusterDir, 'spark-executor');
      const driver = alivePid(clusterDir, 'spark-connect');
      out['spark-connect (driver)'] = driver ? [driver] : [];
    }
    return out;
  };
}

/** What a bench runs on: the engines (Spark resolved to its URL), the memory each has, and the cleanup. */
export interface BenchEngines {
  engines: string[];
  memory: MemoryReport;
  /** the local cluster whose executor's RSS the bench samples (undefined: no local Spark) */
  clusterDir?: string;
  /** removes DuckDB's spill directory */
  done: () => Promise<void>;
}

/**
 * The engines of --engine (duckdb, spark — the local cluster's, or LAKESTREAM_ENGINE's — or
 * spark://HOST:PORT; default both), with the --memory budget split between them: DuckDB's share set on
 * this process's instance, Spark's given to the cluster this starts (a running cluster's is read).
 */
export async function prepareEngines(
  value: string | undefined,
  memoryMb: number | undefined,
  log: (s: string) => void,
): Promise<BenchEngines> {
  const names = (value ?? 'duckdb,spark').split(',').map((s) => s.trim());
  const available = availableMb();
  const budgetMb = memoryMb ?? defaultBudgetMb(available);
  const budgetFrom =
    memoryMb === undefined ? `half of the ${available} MB available when the bench started` : '--memory';
  const duckdb = names.includes('duckdb');
  const sparks = names.filter((n) => n !== 'duckdb');
  if (sparks.length > 1)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `a bench compares DuckDB with one Spark, not ${sparks.join(' and ')}`,
    );
  const local = sparks[0] === 'spark' && !(process.env.LAKESTREAM_ENGINE ?? '').startsWith('spark');
  const cluster = local ? await localSpark() : undefined;
  const fixed = sparks.length === 0 ? undefined : local ? cluster?.executorMb : null;
  const split = splitBudget(budgetMb, { duckdb, spark: sparks.length > 0, sparkFixedMb: fixed });
  const memory: MemoryReport = { budgetMb, budgetFrom };
  const engines: string[] = [];
  for (const n of names) {
    if (n !== 'duckdb' && local) {
      // a running cluster is given what it has (cluster up refuses other settings while it runs)
      engines.push(await (await import('./engines.ts')).benchSpark(log, split.sparkMb));
      memory.spark = await sparkReport(
        engines.at(-1)!,
        cluster?.running ? 'the running cluster' : 'started by the bench',
        cluster?.dir,
      );
    } else if (n !== 'duckdb') {
      engines.push(n === 'spark' ? process.env.LAKESTREAM_ENGINE! : n);
      memory.spark = await sparkReport(n, 'a remote master');
    } else engines.push(n);
  }
  let done = async () => {};
  if (duckdb && split.duckdbMb !== undefined) {
    const d = await applyDuckShare(split.duckdbMb);
    memory.duckdb = d.settings;
    done = d.remove;
  }
  log(
    `memory: budget ${budgetMb} MB (${budgetFrom})` +
      (memory.duckdb
        ? `; DuckDB ${memory.duckdb.memoryLimit}, ${memory.duckdb.threads} threads, spills to ${memory.duckdb.tempDirectory}`
        : '') +
      (memory.spark
        ? `; Spark executor ${memory.spark.executorMemoryMb ?? '?'} MB (${memory.spark.from}), ${memory.spark.cores ?? '?'} cores, spills to ${memory.spark.localDir ?? '?'}`
        : ''),
  );
  return { engines, memory, clusterDir: local ? cluster?.dir : undefined, done };
}
