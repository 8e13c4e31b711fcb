// Two stream workers that both believe they own every partition — a split brain, as when a worker
// misses a rebalance and goes on as a zombie — race for the same batch numbers of the same
// partitions. The lake must still hold every reading exactly once: per partition, the first table's
// commit decides whose batch it is, and the loser discards its manifest and resumes from the lake.
//
// The split brain is made by giving each worker's consumer a group of its own underneath, so both
// are assigned every partition, while both workers write the lake under one group name (one set
// of txn app ids and manifests). The transport is the real embedded log.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { runWorker } from '../../src/stream/worker.ts';
import { openTransport } from '../../src/transport/open.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { loadEnrichment } from '../../src/workloads/meters/enrich.ts';
import { metersWorkload } from '../../src/workloads/meters/workload.ts';
import { cli, DATA, freshEngines, requireData } from '../helpers/cli.ts';

const GROUP = 'lakestream-meters';

/** The transport, but each consumer joins `<group>/<name>`: every such consumer is given every partition. */
function splitBrain(t: Transport, name: string): Transport {
  return {
    url: t.url,
    ensureTopic: (n, p) => t.ensureTopic(n, p),
    listTopics: () => t.listTopics(),
    producer: () => t.producer(),
    consumer: (o) => t.consumer({ ...o, group: `${o.group}/${name}` }),
    endOffsets: (topic) => t.endOffsets(topic),
    committedOffsets: (g, topic) => t.committedOffsets(`${g}/${name}`, topic),
    close: async () => {},
  };
}

describe('two workers that both think they own every partition', { timeout: 600_000 }, () => {
  const file = requireData('meters/london/halfhourly_2013_20_households.csv.gz');
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;
  const lost: string[] = [];

  before(async () => {
    engines = await freshEngines();
    await cli([
      'produce',
      '--source',
      'london-halfhourly',
      '--file',
      file,
      '--rate',
      'max',
      ...engines.produceFlags,
    ]);
    const transport = await openTransport(engines.transport);
    const enrichment = loadEnrichment({
      householdsFile: join(DATA, 'meters/london/households.csv'),
      holidaysFile: join(DATA, 'meters/london/uk_bank_holidays.csv'),
      sampleFraction: 0.1,
    });
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      const text = String(chunk);
      if (/another worker owns that partition now/.test(text)) lost.push(text.trim().split('\n')[0]);
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      const workers = ['a', 'b'].map(async (name) => {
        const workerLake = await Lake.open(engines.lake);
        try {
          return await runWorker({
            transport: splitBrain(transport, name),
            lake: workerLake,
            workload: metersWorkload({ store: workerLake.store, enrichment }),
            group: GROUP,
            workerId: `worker-${name}`,
            maxBatch: 3000,
            pollMs: 50,
            drain: true,
          });
        } finally {
          await workerLake.close();
        }
      });
      await Promise.all(workers);
    } finally {
      process.stderr.write = write;
      await transport.close();
    }
    // whatever a loser left half done, a worker of the real group completes
    await cli(['stream', '--drain', '--quiet', '--retrain', 'off', ...engines.flags]);
    lake = await Lake.open(engines.lake);
  });
  after(async () => lake?.close());

  it('really raced: some batches were lost to the other worker', () => {
    assert.ok(lost.length > 0, 'no batch was contested');
  });

  it('bronze holds every source reading exactly once', async () => {
    const r = await lake.query(
      'SELECT count(*)::BIGINT AS n, count(DISTINCT (meter_id, ts))::BIGINT AS d FROM meters_bronze_readings',
    );
    assert.equal(Number(r.rows[0].n), Number(r.rows[0].d), 'no duplicated reading');
    assert.equal(Number(r.rows[0].n), 350_365, 'no lost reading');
  });

  it('silver and gold hold each key once, and silver counts every reading once', async () => {
    for (const [view, key] of [
      ['meters_silver_readings', 'meter_id, hour'],
      ['meters_gold_daily', 'meter_id, day'],
      ['meters_gold_monthly', 'meter_id, month'],
    ]) {
      const r = await lake.query(
        `SELECT count(*)::BIGINT AS n, count(DISTINCT (${key}))::BIGINT AS d FROM ${view}`,
      );
      assert.equal(Number(r.rows[0].n), Number(r.rows[0].d), `${view}: one row per ${key}`);
    }
    const s = await lake.query('SELECT sum(n_readings)::BIGINT AS n FROM meters_silver_readings');
    assert.equal(Number(s.rows[0].n), 350_365);
  });
});
