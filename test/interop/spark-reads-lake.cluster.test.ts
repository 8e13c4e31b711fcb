// Delta interop with Apache Spark 4.0.1 + Delta 4.0.0 on the local cluster, through the TypeScript Spark
// Connect client: Spark reads every table a replay wrote, with DuckDB's row counts and column sums, on a
// file: lake and on a lake in HDFS; and lakestream appends to a table while Spark compacts it (OPTIMIZE).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Table } from 'apache-arrow';
import { SparkConnectClient } from '../../src/engine/spark/index.ts';
import { type Field, Lake, viewNameOf } from '../../src/lake/index.ts';
import { openStore } from '../../src/storage/index.ts';
import { ensureCluster, type TestCluster } from '../helpers/cluster.ts';
import { copyLake, replayedLake } from '../helpers/engine-lake.ts';

/** One aggregate, written for each engine's SQL, compared as `kind` says. */
interface Aggregate {
  alias: string;
  duck: string;
  spark: string;
  /** exact: integers and text compared exactly; approx: doubles summed in another order */
  kind: 'exact' | 'approx';
}

const DAY_US = 86_400_000_000;

/**
 * Row count, then per column its non-null count and a sum that depends on every value: integers summed,
 * doubles summed, booleans counted true, timestamps as microseconds (min, max, and time of day summed, so a
 * shifted zone or lost microseconds show), text and bytes by their summed length.
 */
function aggregates(schema: Field[]): Aggregate[] {
  const out: Aggregate[] = [{ alias: 'n', duck: 'count(*)', spark: 'count(*)', kind: 'exact' }];
  schema.forEach((f, i) => {
    const d = `"${f.name}"`;
    const s = `\`${f.name}\``;
    const add = (suffix: string, duck: string, spark: string, kind: Aggregate['kind'] = 'exact') =>
      out.push({ alias: `c${i}_${suffix}`, duck, spark, kind });
    add('count', `count(${d})`, `count(${s})`);
    switch (f.type) {
      case 'long':
      case 'integer':
      case 'short':
      case 'byte':
        add('sum', `CAST(sum(${d}) AS BIGINT)`, `CAST(sum(${s}) AS BIGINT)`);
        break;
      case 'double':
      case 'float':
        add('sum', `CAST(sum(${d}) AS DOUBLE)`, `CAST(sum(${s}) AS DOUBLE)`, 'approx');
        break;
      case 'boolean':
        // not count_if: over no rows DuckDB's is NULL, Spark's 0
        add('true', `sum(CASE WHEN ${d} THEN 1 ELSE 0 END)`, `sum(CASE WHEN ${s} THEN 1 ELSE 0 END)`);
        break;
      case 'timestamp':
        add('min', `min(epoch_us(${d}))`, `min(unix_micros(${s}))`);
        add('max', `max(epoch_us(${d}))`, `max(unix_micros(${s}))`);
        add('tod', `CAST(sum(epoch_us(${d}) % ${DAY_US}) AS BIGINT)`, `sum(unix_micros(${s}) % ${DAY_US})`);
        break;
      case 'string':
        add('len', `CAST(sum(length(${d})) AS BIGINT)`, `CAST(sum(length(${s})) AS BIGINT)`);
        break;
      case 'binary':
        add('len', `CAST(sum(octet_length(${d})) AS BIGINT)`, `CAST(sum(octet_length(${s})) AS BIGINT)`);
        break;
      default:
        break;
    }
  });
  return out;
}

/** A value of either engine as text (exact) or a number (approx); null stays null. */
function norm(v: unknown, kind: Aggregate['kind']): string | number | null {
  if (v === null || v === undefined) return null;
  return kind === 'approx' ? Number(v) : String(typeof v === 'number' ? BigInt(v) : v);
}

function sparkRow(t: Table): Record<string, unknown> {
  assert.equal(t.numRows, 1);
  return Object.fromEntries(t.schema.fields.map((f) => [f.name, t.getChild(f.name)?.get(0)]));
}

/** Compares Spark's aggregates over `sparkPath` with DuckDB's over the same table; returns the row count. */
async function compareTable(
  lake: Lake,
  spark: SparkConnectClient,
  path: string,
  sparkPath: string,
): Promise<number> {
  const aggs = aggregates(await lake.table(path).schema());
  const duck = (
    await lake.query(
      `SELECT ${aggs.map((a) => `${a.duck} AS ${a.alias}`).join(', ')} FROM ${viewNameOf(path)}`,
    )
  ).rows[0];
  const sp = sparkRow(
    await spark.sql(
      `SELECT ${aggs.map((a) => `${a.spark} AS ${a.alias}`).join(', ')} FROM delta.\`${sparkPath}\``,
    ),
  );
  for (const a of aggs) {
    const x = norm(duck[a.alias], a.kind);
    const y = norm(sp[a.alias], a.kind);
    if (a.kind === 'approx' && typeof x === 'number' && typeof y === 'number')
      assert.ok(
        Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x)),
        `${path} ${a.spark}: DuckDB ${x}, Spark ${y}`,
      );
    else assert.equal(y, x, `${path} ${a.spark}: DuckDB ${x}, Spark ${y}`);
  }
  return Number(duck.n);
}

const TABLES_REQUIRED = [
  'meters/bronze/readings',
  'meters/silver/readings',
  'meters/gold/daily',
  'meters/gold/monthly',
  'meters/gold/predictions',
  'meters/gold/prediction_outcomes',
  'meters/quarantine/readings',
  'cluster-trace/bronze/task_events',
  'cluster-trace/silver/task_lifecycles',
  'cluster-trace/gold/task_classes',
  'cluster-trace/quarantine/events',
];

describe('Spark reads every table lakestream writes', () => {
  let cluster: TestCluster;
  let spark: SparkConnectClient;
  let fileLake: string;
  const hdfsDir = `/lakestream-tests/spark-reads-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;

  before(async () => {
    cluster = await ensureCluster({ hdfs: true, spark: true });
    spark = await SparkConnectClient.connect(cluster.sparkConnectUrl);
    fileLake = await replayedLake();
    await copyLake(fileLake, `${cluster.webhdfsUrl}${hdfsDir}?user=${cluster.hdfsUser}`);
  });
  after(async () => {
    await spark?.close();
  });

  async function everyTable(lakeUrl: string, sparkRoot: string): Promise<void> {
    const lake = await Lake.open(lakeUrl);
    try {
      const tables = await lake.listTables();
      for (const t of TABLES_REQUIRED) assert.ok(tables.includes(t), `the replay wrote ${t}`);
      const counts: Record<string, number> = {};
      for (const t of tables) counts[t] = await compareTable(lake, spark, t, `${sparkRoot}/${t}`);
      for (const t of [
        'meters/bronze/readings',
        'meters/gold/predictions',
        'meters/gold/prediction_outcomes',
      ])
        assert.ok(counts[t] > 0, `${t} has rows (${counts[t]})`);
      assert.ok(counts['meters/quarantine/readings'] > 0, 'quarantine has rows');
    } finally {
      await lake.close();
    }
  }

  it('on a file: lake: every table with the row count and column sums DuckDB gives', async () => {
    await everyTable(fileLake, fileLake.replace(/^file:/, 'file://'));
  });

  it('on a lake in HDFS: Spark reads hdfs:// the files lakestream wrote through WebHDFS, with the same sums', async () => {
    await everyTable(
      `${cluster.webhdfsUrl}${hdfsDir}?user=${cluster.hdfsUser}`,
      `${cluster.hdfsUrl}${hdfsDir}`,
    );
  });
});

describe('lakestream appends to a table while Spark compacts it', () => {
  const SPEC = {
    schema: [
      { name: 'id', type: 'long' as const, nullable: false },
      { name: 'batch', type: 'integer' as const },
      { name: 'value', type: 'double' as const },
      { name: 'day', type: 'string' as const },
    ],
    partitionColumns: ['day'],
  };
  const ROWS = 40;
  const rows = (batch: number) =>
    Array.from({ length: ROWS }, (_, i) => ({
      id: BigInt(batch * ROWS + i),
      batch,
      value: batch + i / 100,
      day: `2013-01-0${1 + (i % 2)}`,
    }));

  let cluster: TestCluster;
  let spark: SparkConnectClient;

  before(async () => {
    cluster = await ensureCluster({ hdfs: true, spark: true });
    spark = await SparkConnectClient.connect(cluster.sparkConnectUrl);
  });
  after(async () => {
    await spark?.close();
  });

  it('on HDFS: no row lost or doubled, OPTIMIZE commits among the appends, and each reads the other’s log', async () => {
    const dir = `/lakestream-tests/spark-compacts-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
    const lake = await Lake.open(`${cluster.webhdfsUrl}${dir}?user=${cluster.hdfsUser}`);
    const sparkPath = `${cluster.hdfsUrl}${dir}/interop/compacted`;
    try {
      const table = lake.table('interop/compacted');
      await table.create(SPEC);
      // small files to compact: 8 commits before Spark starts
      for (let b = 0; b < 8; b++) await table.write(rows(b));
      // Spark checkpoints every commit it makes from here on, so lakestream must read Spark's checkpoints
      await spark.sql(
        `ALTER TABLE delta.\`${sparkPath}\` SET TBLPROPERTIES ('delta.checkpointInterval' = '1')`,
      );

      // lakestream appends all the time Spark compacts, OPTIMIZE after OPTIMIZE, about one commit a second
      // (a stream worker's pace; at three a second on this small machine Spark's OPTIMIZE lost the race
      // for the next version again and again, once for 400 s)
      const OPTIMIZES = 2;
      let batches = 8;
      let compacting = true;
      const appends = (async () => {
        while (compacting) {
          const t0 = Date.now();
          await table.write(rows(batches));
          batches++;
          await sleep(Math.max(0, 1000 - (Date.now() - t0)));
        }
      })();
      const during: string[] = [];
      try {
        for (let k = 0; k < OPTIMIZES; k++) {
          const [b0, t0] = [batches, Date.now()];
          await spark.sql(`OPTIMIZE delta.\`${sparkPath}\``);
          during.push(`${batches - b0} appends in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        }
      } finally {
        compacting = false;
        await appends;
      }
      process.stderr.write(`OPTIMIZE runs: ${during.join('; ')}\n`);
      assert.ok(batches > 8 + OPTIMIZES, `lakestream appended while Spark compacted: ${during.join('; ')}`);
      const BATCHES = batches;

      const total = BATCHES * ROWS;
      // lakestream's reader over a log with Spark's commits (and checkpoints) in it
      const mine = (
        await lake.query(
          `SELECT count(*) AS n, count(DISTINCT id) AS ids, CAST(sum(id) AS BIGINT) AS s FROM ${viewNameOf('interop/compacted')}`,
        )
      ).rows[0];
      assert.deepEqual(
        [Number(mine.n), Number(mine.ids), Number(mine.s)],
        [total, total, (total * (total - 1)) / 2],
        'lakestream reads every row once',
      );
      const theirs = sparkRow(
        await spark.sql(
          `SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(id) AS s FROM delta.\`${sparkPath}\``,
        ),
      );
      assert.deepEqual(
        [Number(theirs.n), Number(theirs.ids), Number(theirs.s)],
        [total, total, (total * (total - 1)) / 2],
        'Spark reads every row once',
      );

      // the log holds both writers' commits, interleaved: an append landed after an OPTIMIZE
      const history = sparkRowsOf(await spark.sql(`DESCRIBE HISTORY delta.\`${sparkPath}\``));
      const ops = history.map((h) => ({ version: Number(h.version), op: String(h.operation) }));
      const optimizeVersions = ops.filter((o) => o.op === 'OPTIMIZE').map((o) => o.version);
      assert.ok(optimizeVersions.length >= 1, `history: ${JSON.stringify(ops)}`);
      const lastAppend = Math.max(...ops.filter((o) => o.op !== 'OPTIMIZE').map((o) => o.version));
      assert.ok(
        Math.min(...optimizeVersions) < lastAppend,
        `an append committed after Spark's first OPTIMIZE: ${JSON.stringify(ops)}`,
      );
      // at each OPTIMIZE's version there is Spark's checkpoint, and lakestream's snapshot from it holds the
      // rows Spark counts at that version
      const store = await openStore(`${cluster.webhdfsUrl}${dir}?user=${cluster.hdfsUser}`);
      const log = (await store.list('interop/compacted/_delta_log/')).map((o) => o.path);
      await store.close();
      for (const v of optimizeVersions) {
        const name = `${String(v).padStart(20, '0')}.checkpoint.parquet`;
        assert.ok(
          log.some((p) => p.endsWith(`/${name}`)),
          `Spark wrote ${name}: ${log.filter((p) => p.includes('checkpoint'))}`,
        );
        const atV = sparkRow(
          await spark.sql(`SELECT count(*) AS n FROM delta.\`${sparkPath}\` VERSION AS OF ${v}`),
        );
        assert.equal((await table.snapshot(v)).numRecords, Number(atV.n), `version ${v}`);
      }
      const snap = await table.snapshot();
      assert.ok(
        snap.files.length < BATCHES * 2,
        `compacted: ${snap.files.length} files for ${BATCHES} commits`,
      );

      // and lakestream can go on writing after Spark's last commit
      await table.write(rows(BATCHES));
      const after = Number(
        (await lake.query(`SELECT count(*) AS n FROM ${viewNameOf('interop/compacted')}`)).rows[0].n,
      );
      assert.equal(after, total + ROWS);
    } finally {
      await lake.close();
    }
  });
});

function sparkRowsOf(t: Table): Record<string, unknown>[] {
  return t.toArray().map((r) => r.toJSON() as Record<string, unknown>);
}
