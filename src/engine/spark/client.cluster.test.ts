// The Spark Connect client against the local cluster's Spark: SQL results and their Arrow types, schema and
// explain, config, Spark's errors with class and position, interrupt and abort of a long query, a stream
// broken mid-way and reattached, and the session's release on close.

import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Table, Type } from 'apache-arrow';
import { ensureCluster } from '../../../test/helpers/cluster.ts';
import { isLakestreamError } from '../../errors.ts';
import { isSparkError, SparkConnectClient, SparkError } from './index.ts';

// a count over a range this long runs for hours on two cores
const ENDLESS = 'SELECT count(*) FROM range(0, 100000000000)';

function rows(t: Table): Record<string, unknown>[] {
  return t.toArray().map((r) => r.toJSON());
}

describe('Spark Connect client', { timeout: 300_000 }, () => {
  let url: string;
  let spark: SparkConnectClient;

  before(async () => {
    url = (await ensureCluster({ spark: true })).sparkConnectUrl;
    spark = await SparkConnectClient.connect(url);
    // the first job of a session waits for its executors: start them here, not inside a timed test
    await spark.sql('SELECT sum(id) FROM range(1000)');
  });
  after(() => spark?.close());

  it('opens a session with a UUID and learns the server’s Spark version', () => {
    assert.match(spark.sessionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(spark.sparkVersion, '4.0.1');
  });

  it('returns SQL results as Arrow tables with Spark’s types', async () => {
    const t = await spark.sql(`SELECT
        42 AS i, 9007199254740993L AS l, 2.5D AS d, 'naïve' AS s,
        TIMESTAMP'2024-01-02 03:04:05.123456+02:00' AS ts, DATE'2024-02-29' AS dt,
        CAST(NULL AS INT) AS ni, NULL AS n, X'00FF10' AS bin, CAST(12.5 AS DECIMAL(10,2)) AS dec,
        array(1, 2, NULL) AS arr, map('a', 1L, 'b', 2L) AS m, named_struct('x', 1, 'y', 'z') AS st,
        TIMESTAMP_NTZ'2024-01-02 03:04:05.123456' AS ntz`);
    assert.equal(t.numRows, 1);
    const type = (name: string) => t.schema.fields.find((f) => f.name === name)!.type;
    assert.deepEqual(
      t.schema.fields.map((f) => Type[f.typeId]),
      [
        'Int',
        'Int',
        'Float',
        'Utf8',
        'Timestamp',
        'Date',
        'Int',
        'Null',
        'Binary',
        'Decimal',
        'List',
        'Map',
        'Struct',
        'Timestamp',
      ],
    );
    const r = t.get(0)!;
    assert.equal(r.i, 42);
    assert.equal(r.l, 9007199254740993n); // a long beyond 2^53 arrives exact
    assert.equal(r.d, 2.5);
    assert.equal(r.s, 'naïve');
    // timestamps are instants in UTC, to the microsecond
    assert.deepEqual([type('ts').unit, type('ts').timezone], [2, 'UTC']); // 2 = MICROSECOND
    assert.equal(t.getChild('ts')!.data[0].values[0], 1704157445123456n);
    assert.equal(new Date(r.dt).toISOString(), '2024-02-29T00:00:00.000Z');
    assert.equal(r.ni, null);
    assert.equal(r.n, null);
    assert.deepEqual([...r.bin], [0, 255, 16]);
    assert.deepEqual([type('dec').precision, type('dec').scale], [10, 2]);
    assert.equal(t.getChild('dec')!.data[0].values[0], 1250); // the low word of the 128-bit unscaled 1250
    assert.deepEqual([...r.arr], [1, 2, null]);
    assert.deepEqual(r.m.toJSON(), { a: 1n, b: 2n });
    assert.deepEqual(r.st.toJSON(), { x: 1, y: 'z' });
    // a wall-clock time: no zone, the microseconds kept
    assert.deepEqual([type('ntz').unit, type('ntz').timezone], [2, null]);
    assert.equal(t.getChild('ntz')!.data[0].values[0], 1704164645123456n);
  });

  it('returns every row of a result that comes in many batches, with an empty result keeping its schema', async () => {
    const t = await spark.sql('SELECT id, id % 7 AS k FROM range(0, 100000)');
    assert.equal(t.numRows, 100_000);
    let sum = 0n;
    for (const v of t.getChild('id')!) sum += v as bigint;
    assert.equal(sum, 4_999_950_000n);
    const empty = await spark.sql('SELECT id FROM range(0, 10) WHERE id < 0');
    assert.equal(empty.numRows, 0);
    assert.deepEqual(
      empty.schema.fields.map((f) => f.name),
      ['id'],
    );
  });

  it('runs commands (a temporary view) and then queries over them, a WITH query too', async () => {
    await spark.sql('CREATE OR REPLACE TEMPORARY VIEW squares AS SELECT id, id * id AS sq FROM range(1, 6)');
    assert.deepEqual(rows(await spark.sql('SELECT sum(sq) AS s FROM squares')), [{ s: 55n }]);
    // a query that is not plainly one by its first word takes the SqlCommand way: same rows
    assert.deepEqual(
      rows(
        await spark.sql('WITH big AS (SELECT * FROM squares WHERE sq > 9) SELECT id FROM big ORDER BY id'),
      ),
      [{ id: 4n }, { id: 5n }],
    );
  });

  it('answers schema with Delta’s type names and explain with Spark’s plan', async () => {
    assert.deepEqual(
      await spark.schema(
        "SELECT 1 AS i, 1L AS l, 'x' AS s, CAST(1 AS DECIMAL(12,3)) AS d, current_timestamp() AS ts, map('k', array(1.5D)) AS m",
      ),
      [
        { name: 'i', type: 'integer', nullable: false },
        { name: 'l', type: 'long', nullable: false },
        { name: 's', type: 'string', nullable: false },
        { name: 'd', type: 'decimal(12,3)', nullable: true }, // a cast to decimal can overflow to NULL
        { name: 'ts', type: 'timestamp', nullable: false },
        { name: 'm', type: 'map<string,array<double>>', nullable: false },
      ],
    );
    const plan = await spark.explain('SELECT id FROM range(10) WHERE id > 3');
    assert.match(plan, /== Physical Plan ==/);
    assert.match(plan, /Filter \(id#\d+L > 3\)/);
    assert.match(await spark.explain('SELECT 1', 'extended'), /== Parsed Logical Plan ==/);
  });

  it('sets and gets session config, which another session does not see', async () => {
    await spark.setConf('spark.sql.shuffle.partitions', '7');
    assert.equal(await spark.getConf('spark.sql.shuffle.partitions'), '7');
    assert.equal(await spark.getConf('spark.lakestream.not.a.key'), undefined);
    const other = await SparkConnectClient.connect(url);
    try {
      assert.notEqual(await other.getConf('spark.sql.shuffle.partitions'), '7');
    } finally {
      await other.close();
    }
  });

  it('reports bad SQL with Spark’s error class, SQLSTATE and where it is', async () => {
    await assert.rejects(spark.sql('SELEC 1'), (e) => {
      assert.ok(e instanceof SparkError);
      assert.deepEqual([e.code, e.errorClass, e.sqlState], ['BAD_ARGUMENT', 'PARSE_SYNTAX_ERROR', '42601']);
      assert.deepEqual([e.context?.line, e.context?.column], [1, 1]);
      assert.equal(
        e.message,
        "Spark: [PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, column 1)",
      );
      return true;
    });
    await assert.rejects(spark.sql('SELECT id,\n  no_such_column + 1\nFROM range(3)'), (e) => {
      assert.ok(isSparkError(e));
      assert.equal(e.errorClass, 'UNRESOLVED_COLUMN.WITH_SUGGESTION');
      assert.equal(e.messageParameters.objectName, '`no_such_column`');
      assert.deepEqual(e.context, { start: 13, stop: 26, fragment: 'no_such_column', line: 2, column: 3 });
      assert.match(e.message, /\(line 2, column 3\)$/);
      return true;
    });
  });

  it('says which table does not exist, and fails a query on bad data with the data’s error', async () => {
    await assert.rejects(spark.sql('SELECT * FROM lakestream_no_such_table'), (e) => {
      assert.ok(isLakestreamError(e, 'NOT_FOUND'));
      assert.match(e.message, /TABLE_OR_VIEW_NOT_FOUND.*`lakestream_no_such_table`/);
      return true;
    });
    await assert.rejects(spark.sql("SELECT CAST('x' AS INT) FROM range(2)"), (e) => {
      assert.ok(isSparkError(e));
      assert.deepEqual([e.code, e.errorClass], ['BAD_INPUT', 'CAST_INVALID_INPUT']);
      return true;
    });
  });

  it('stops a long query when its signal is aborted, and Spark’s executors are free again', async () => {
    const reason = new Error('enough');
    const ac = new AbortController();
    setTimeout(() => ac.abort(reason), 2_000);
    const t0 = Date.now();
    await assert.rejects(spark.sql(ENDLESS, { signal: ac.signal }), (e) => e === reason);
    assert.ok(Date.now() - t0 < 4_000, `${Date.now() - t0} ms`);
    // the worker's two cores would still run the endless count had the Interrupt not reached Spark
    const t1 = Date.now();
    assert.deepEqual(rows(await spark.sql('SELECT sum(id) AS s FROM range(0, 1000, 1, 2)')), [
      { s: 499500n },
    ]);
    assert.ok(Date.now() - t1 < 20_000, `${Date.now() - t1} ms`);
  });

  it('interrupts what the session runs: the query fails as canceled', async () => {
    const running = spark.sql(ENDLESS);
    const outcome = running.then(
      () => 'finished',
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const t0 = Date.now();
    const ids = await spark.interrupt();
    assert.equal(ids.length, 1);
    const e = await outcome;
    assert.ok(isSparkError(e), String(e));
    assert.deepEqual([e.errorClass, e.sqlState], ['OPERATION_CANCELED', 'HY008']);
    assert.ok(Date.now() - t0 < 5_000);
  });

  it('picks a broken result stream up where it broke (ReattachExecute), every row once', async () => {
    // a TCP relay to Spark that drops the connection once, after ~3 MB of results
    let cuts = 0;
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
      const server = createConnection(Number(new URL(url.replace(/^sc:/, 'http:')).port), '127.0.0.1');
      sockets.add(client).add(server);
      let bytes = 0;
      client.pipe(server);
      server.on('data', (d: Buffer) => {
        bytes += d.length;
        if (cuts === 0 && bytes > 3_000_000) {
          cuts++;
          client.destroy();
          server.destroy();
        } else client.write(d);
      });
      for (const [a, b] of [
        [client, server],
        [server, client],
      ]) {
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
      }
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayed = await SparkConnectClient.connect(
      `sc://127.0.0.1:${(relay.address() as { port: number }).port}`,
    );
    try {
      const n = 300_000;
      const t = await relayed.sql(`SELECT id, repeat('x', 100) AS pad FROM range(0, ${n})`);
      assert.equal(cuts, 1);
      assert.ok(relayed.stats.reattaches >= 1, JSON.stringify(relayed.stats));
      assert.equal(t.numRows, n);
      let sum = 0n;
      for (const v of t.getChild('id')!) sum += v as bigint;
      assert.equal(sum, (BigInt(n) * BigInt(n - 1)) / 2n);
    } finally {
      await relayed.close();
      for (const s of sockets) s.destroy();
      relay.close();
    }
  });

  it('releases the session on close: its id is refused afterwards, and the client says it is closed', async () => {
    const c = await SparkConnectClient.connect(url);
    const id = c.sessionId;
    assert.equal((await c.sql('SELECT 1 AS one')).numRows, 1);
    await c.close();
    await assert.rejects(
      c.sql('SELECT 1'),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT') && /closed/.test(e.message),
    );
    await assert.rejects(SparkConnectClient.connect(`${url}/;session_id=${id}`), (e) => {
      assert.ok(isSparkError(e));
      assert.equal(e.errorClass, 'INVALID_HANDLE.SESSION_CLOSED');
      return true;
    });
  });
});
