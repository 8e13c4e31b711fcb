// Issue 17 item 3: fleet rows combined from per-batch partial sums. Through the stream's batch
// pipeline (commitBatch, takeover, afterCommit) on a lake: after many batches of a month's end (a
// month closed, a late reading that changes its outcomes) the fleet rows are the correctly rounded
// sums of the meter rows; a worker killed mid-month (also between its table commits and its
// roll-up) and a group of two workers end with the same fleet rows, bit for bit, as one worker that
// never stopped; and a roll-up reads no meter rows — the partials only, whose files a fold keeps few
// — and a batch's two roll-ups and fold read them once between them. A lake written before the
// partials existed, upgraded mid-month, gets them seeded from its meter rows, once, and ends with
// the fleet rows of a lake that had them all along.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FLEET_ID, FLEET_PARTIALS } from '../../src/domain/meters/tables.ts';
import { TOPICS } from '../../src/domain/topics.ts';
import type { Lake } from '../../src/lake/index.ts';
import { commitBatch } from '../../src/stream/batch.ts';
import { ManifestStore } from '../../src/stream/manifest.ts';
import type { BatchOutputs } from '../../src/stream/outputs.ts';
import { followAssignment } from '../../src/stream/takeover.ts';
import { GroupOffsets, Outbox, type WorkerContext } from '../../src/stream/worker-context.ts';
import { newStatus, PhaseClock } from '../../src/stream/worker-status.ts';
import { ensureTables, type Workload } from '../../src/stream/workload.ts';
import type { Consumer, Message, Producer, Transport } from '../../src/transport/index.ts';
import { FOLD_AT } from '../../src/workloads/meters/fleet.ts';
import { metersWorkload } from '../../src/workloads/meters/workload.ts';
import { fsum } from '../helpers/fsum.ts';
import { freshLake } from '../lake/helpers.ts';

const GROUP = 'g';
const PARTITIONS = 4;
const ALL = [...Array(PARTITIONS).keys()];
const opened: Lake[] = [];
after(async () => {
  for (const l of opened) await l.close();
});

const noEnrichment = { household: () => undefined, calendarOf: () => undefined, inSample: () => false };
const workloadOn = (lake: Lake): Workload => metersWorkload({ store: lake.store, enrichment: noEnrichment });

async function newLake(): Promise<Lake> {
  const lake = await freshLake('file');
  opened.push(lake);
  for (const t of workloadOn(lake).tables) await lake.table(t.path).ensure(t.spec);
  return lake;
}

/** A worker (nothing owned yet) for the partitions `assigned`: transport, consumer and producer hold nothing. */
function worker(lake: Lake, workload: Workload, assigned: number[], name: string): WorkerContext {
  const transport = {
    ensureTopic: async () => ({}),
    committedOffsets: async () => [],
  } as unknown as Transport;
  const consumer = {
    assignment: () => assigned.map((partition) => ({ topic: workload.topic, partition })),
    seek: () => {},
    commit: async () => {},
  } as unknown as Consumer;
  const producer = { send: async () => {}, close: async () => {} } as unknown as Producer;
  return {
    transport,
    lake,
    workload,
    group: GROUP,
    topic: workload.topic,
    worker: name,
    consumer,
    manifests: new ManifestStore(lake.store, workload.name, GROUP, (table, appId) =>
      lake.table(table).txnVersion(appId),
    ),
    owned: new Map(),
    outbox: new Outbox(transport, producer, lake, workload),
    offsets: new GroupOffsets(consumer, workload.topic),
  };
}

async function adopt(ctx: WorkerContext): Promise<WorkerContext> {
  const taken = await followAssignment(ctx);
  assert.equal(taken.kind, 'adopted', JSON.stringify(taken));
  return ctx;
}

async function commit(ctx: WorkerContext, msgs: Message[], flush = false): Promise<void> {
  const mine = [...ctx.owned.keys()];
  const batch = new Map(mine.map((p) => [p, msgs.filter((m) => m.partition === p)]));
  const r = await commitBatch(
    ctx,
    batch,
    flush,
    new PhaseClock(newStatus(ctx.worker, GROUP, 'x').timings_ms),
  );
  assert.equal(r.kind, 'committed', JSON.stringify(r));
}

/**
 * Half-hourly readings from 2013-01-20 to 2013-02-05 of 9 meters (electricity and water) in 4
 * partitions (by meter), staggered, with values that are not round in binary; January closes, and a late
 * reading of 2013-01-29 arrives after it closed (within retention): its outcomes change.
 */
function readings(): Message[] {
  const start = Date.parse('2013-01-20T00:00:00Z');
  const meters = [...Array(9).keys()].map((i) => ({ id: `${i < 6 ? 'E' : 'W'}${i}`, water: i >= 6, i }));
  const next = new Array(PARTITIONS).fill(0);
  const register = new Map<string, number>();
  const out: Message[] = [];
  const push = (m: (typeof meters)[number], ts: number, value: number, seq: number) => {
    const partition = m.i % PARTITIONS;
    const reading = {
      v: 1,
      meter_id: m.id,
      kind: m.water ? 'water' : 'electricity',
      ts: new Date(ts).toISOString(),
      value,
      unit: m.water ? 'L' : 'kWh',
      type: m.water ? 'cumulative' : 'interval',
      seq,
    };
    out.push({
      topic: TOPICS.readings,
      partition,
      offset: next[partition]++,
      key: m.id,
      value: new TextEncoder().encode(JSON.stringify(reading)),
      timestamp: 0,
    });
  };
  // each meter 5 hours behind the one before it in the log: their days close in different batches
  for (let step = 0; step < 48 * 16 + 100; step++)
    for (const m of meters) {
      const h = step - m.i * 10;
      if (h < 0 || h >= 48 * 16) continue;
      if (m.i === 5 && h < 48 * 4) continue; // a meter that appears later
      const ts = start + h * 1_800_000;
      if (m.water) {
        const r = (register.get(m.id) ?? 1000) + ((h * 7 + m.i) % 11);
        register.set(m.id, r);
        push(m, ts, r, h);
      } else push(m, ts, 0.1 + ((h * 7919 + m.i * 31) % 97) / 113, h);
      if (h === 48 * 14 && m.i === 1) push(m, Date.parse('2013-01-29T10:15:00Z'), 0.7, 9999);
    }
  return out;
}

interface FleetRow {
  table: string;
  key: string;
  values: number[];
}

/** Every fleet row of both tables, by key, their summed columns as numbers. */
async function fleetRows(lake: Lake): Promise<FleetRow[]> {
  const out: FleetRow[] = [];
  for (const [view, cols] of COLUMNS) {
    const r = await lake.query(
      `SELECT kind || '|' || month || '|' || as_of_day AS key, ${cols.join(', ')}, model_version FROM ${view}
       WHERE meter_id = '${FLEET_ID}' ORDER BY key`,
      { maxRows: 100_000 },
    );
    for (const row of r.rows)
      out.push({
        table: view,
        key: String(row.key),
        values: [...cols, 'model_version'].map((c) => Number(row[c])),
      });
  }
  return out;
}

const COLUMNS = [
  ['meters_gold_predictions', ['predicted_total', 'observed_to_date']],
  ['meters_gold_prediction_outcomes', ['predicted_total', 'actual_total', 'error', 'ape']],
] as const;

/**
 * The fleet rows recomputed from the meter rows: per key, the correctly rounded sum of each column
 * (fsum, independent of the code under test), error and ape from those sums as the roll-up defines
 * them, the largest model version.
 */
async function recomputed(lake: Lake): Promise<FleetRow[]> {
  const out: FleetRow[] = [];
  for (const [view, cols] of COLUMNS) {
    const summed = cols.filter((c) => c !== 'error' && c !== 'ape');
    const r = await lake.query(
      `SELECT kind || '|' || month || '|' || as_of_day AS key, ${summed.map((c) => `list(${c}) AS ${c}`).join(', ')},
              max(model_version) AS mv
       FROM ${view} WHERE meter_id <> '${FLEET_ID}' GROUP BY ALL ORDER BY key`,
      { maxRows: 100_000 },
    );
    for (const row of r.rows) {
      const sums = summed.map((c) => fsum((row[c] as unknown[]).map(Number)));
      if (view === 'meters_gold_prediction_outcomes') {
        const [p, a] = sums;
        sums.push(p - a, a !== 0 ? (Math.abs(p - a) / Math.abs(a)) * 100 : Number.NaN);
      }
      out.push({ table: view, key: String(row.key), values: [...sums, Number(row.mv)] });
    }
  }
  return out;
}

/** One worker owning every partition, never stopped: batches of `size` messages, then a drain. */
async function oneWorker(
  msgs: Message[],
  size: number,
  watch?: (lake: Lake) => WorkerContext,
): Promise<Lake> {
  const lake = await newLake();
  const ctx = await adopt(watch ? watch(lake) : worker(lake, workloadOn(lake), ALL, 'one'));
  for (let from = 0; from < msgs.length; from += size) await commit(ctx, msgs.slice(from, from + size));
  await commit(ctx, [], true);
  return lake;
}

/**
 * A worker owning every partition whose afterCommit records the store paths it reads (those `keep`
 * accepts), one list per batch, in the order read: `reads` fills as `make` runs batches.
 */
function countingReads(keep: (path: string) => boolean = () => true): {
  reads: string[][];
  make: (lake: Lake) => WorkerContext;
} {
  const reads: string[][] = [];
  let current: string[] | undefined;
  const make = (l: Lake) => {
    const localPath = l.store.localPath.bind(l.store);
    l.store.localPath = (p: string) => {
      if (keep(p)) current?.push(p);
      return localPath(p);
    };
    const w = workloadOn(l);
    return worker(
      l,
      {
        ...w,
        afterCommit: async (lk, tables) => {
          current = [];
          reads.push(current);
          try {
            return await w.afterCommit!(lk, tables);
          } finally {
            current = undefined;
          }
        },
      },
      ALL,
      'counted',
    );
  };
  return { reads, make };
}

describe('fleet rows from partial sums, through the batch pipeline', () => {
  const msgs = readings();
  const SIZE = 400;
  let reference: Lake;

  it('after many batches, every fleet row is the correctly rounded sum of its meter rows', async () => {
    reference = await oneWorker(msgs, SIZE);
    const fleet = await fleetRows(reference);
    const want = await recomputed(reference);
    assert.ok(
      fleet.filter((r) => r.table === 'meters_gold_prediction_outcomes').length >= 20,
      'January closed',
    );
    assert.ok(fleet.filter((r) => r.key.includes('2013-02')).length > 0, 'February predicted');
    assert.deepEqual(
      fleet.map((r) => [r.table, r.key, r.values.map((v) => (Number.isNaN(v) ? null : v))]),
      want.map((r) => [r.table, r.key, r.values.map((v) => (Number.isNaN(v) ? null : v))]),
    );
    // the late reading of a closed January changed its outcomes: the fleet took the change
    const late = await reference.query(
      `SELECT count(DISTINCT actual_total) AS n FROM meters_gold_prediction_outcomes
       WHERE meter_id = 'E1' AND month = '2013-01'`,
    );
    assert.equal(Number(late.rows[0].n), 1);
    const e1 = await reference.query(
      `SELECT value FROM meters_gold_daily WHERE meter_id = 'E1' AND day = '2013-01-29'`,
    );
    const e0 = await reference.query(
      `SELECT value FROM meters_gold_daily WHERE meter_id = 'E0' AND day = '2013-01-29'`,
    );
    assert.notEqual(Number(e1.rows[0].value), Number(e0.rows[0].value), 'E1 has its late reading');
  });

  it('a worker killed mid-month, once between its table commits and its roll-up, ends with the same fleet rows', async () => {
    const lake = await newLake();
    let batchNo = 0;
    let dieAt = -1;
    const dying = (): Workload => {
      const w = workloadOn(lake);
      return {
        ...w,
        afterCommit: async (l, tables) => {
          if (batchNo === dieAt) throw new Error('killed after the table commits, before the roll-up');
          return w.afterCommit!(l, tables);
        },
      };
    };
    let ctx = await adopt(worker(lake, dying(), ALL, 'a'));
    for (let from = 0; from < msgs.length; from += SIZE, batchNo++) {
      if (batchNo === 9) dieAt = 9;
      const slice = msgs.slice(from, from + SIZE);
      if (batchNo === dieAt) {
        await assert.rejects(
          commitBatch(
            ctx,
            new Map(ALL.map((p) => [p, slice.filter((m) => m.partition === p)])),
            false,
            new PhaseClock(newStatus('a', GROUP, 'x').timings_ms),
          ),
          /killed/,
        );
        dieAt = -1;
      } else await commit(ctx, slice);
      // killed after every third batch: a new worker takes the partitions over from the manifests
      if (batchNo % 3 === 2 || batchNo === 9) ctx = await adopt(worker(lake, dying(), ALL, `a${batchNo}`));
    }
    await commit(ctx, [], true);
    assert.deepEqual(await fleetRows(lake), await fleetRows(reference));
  });

  it('two workers, two partitions each, end with the same fleet rows as one worker', async () => {
    const lake = await newLake();
    const x = await adopt(worker(lake, workloadOn(lake), [0, 1], 'x'));
    const y = await adopt(worker(lake, workloadOn(lake), [2, 3], 'y'));
    // different batch sizes, and their batches and roll-ups concurrent
    const run = async (ctx: WorkerContext, size: number) => {
      for (let from = 0; from < msgs.length; from += size) await commit(ctx, msgs.slice(from, from + size));
      await commit(ctx, [], true);
    };
    await Promise.all([run(x, 300), run(y, 700)]);
    assert.deepEqual(await fleetRows(lake), await fleetRows(reference));
  });

  it('a roll-up reads no meter rows: the partials only, a few files per month however many batches', async () => {
    const { reads: read, make } = countingReads();
    const lake = await oneWorker(msgs, SIZE / 4, make);
    const batches = read.length;
    assert.ok(batches > 2 * FOLD_AT, `${batches} batches`);
    const meterFiles = (p: string) =>
      /^meters\/gold\/(predictions|prediction_outcomes)\//.test(p) &&
      !p.split('/').pop()!.startsWith('fleet-');
    assert.deepEqual(read.flat().filter(meterFiles), [], 'no meter file of predictions or outcomes read');
    const partialsPerBatch = read.map((files) =>
      files.filter((p) => p.startsWith(`${FLEET_PARTIALS.path}/`)),
    );
    // (a batch that added no prediction or outcome rolls nothing up)
    assert.ok(partialsPerBatch.filter((f) => f.length > 0).length > FOLD_AT, 'most batches rolled up');
    // two roll-ups and perhaps a fold per batch, each over at most FOLD_AT + 1 files of a month or two
    const most = Math.max(...partialsPerBatch.map((f) => new Set(f).size));
    assert.ok(most <= 2 * (FOLD_AT + 1), `a batch's roll-up read ${most} partials files`);
    const live = (await lake.table(FLEET_PARTIALS.path).snapshot()).files.length;
    assert.ok(live <= 2 * (FOLD_AT + 1), `${live} live partials files after ${batches} batches`);
    const history = await lake.table(FLEET_PARTIALS.path).history();
    assert.ok(
      history.some((h) => h.operation === 'FLEET PARTIALS FOLD'),
      'partials were folded',
    );
    // folded or not, the same fleet rows
    assert.deepEqual(await fleetRows(lake), await fleetRows(reference));
    // and as many meter rows as there are: the fleet rows held them all
    const meters = await lake.query(
      `SELECT count(*) AS n FROM meters_gold_predictions WHERE meter_id <> '${FLEET_ID}'`,
    );
    assert.ok(Number(meters.rows[0].n) > 100);
  });

  it("a batch's two roll-ups and its fold read the partials once between them: no partials file twice", async () => {
    // which partials files each batch's afterCommit reads, in the order it reads them
    const { reads: read, make } = countingReads((p) => p.startsWith(`${FLEET_PARTIALS.path}/`));
    const lake = await oneWorker(msgs, SIZE / 2, make);
    // batches that rolled up both tables' rows of a month (January's end: predictions and outcomes)
    // and batches that folded are among them
    const history = await lake.table(FLEET_PARTIALS.path).history();
    assert.ok(
      history.filter((h) => h.operation === 'FLEET PARTIALS FOLD').length > 0,
      'partials were folded',
    );
    assert.ok(read.filter((files) => files.length > 0).length > FOLD_AT, `${read.length} batches`);
    const twice = read.flatMap((files, batch) =>
      files.filter((f, i) => files.indexOf(f) !== i).map((f) => `batch ${batch}: ${f}`),
    );
    assert.deepEqual(twice, [], 'a partials file read twice in one batch');
    assert.deepEqual(await fleetRows(lake), await fleetRows(reference));
  });

  /**
   * The meters workload as a worker without the fleet partials ran it: no partials table, no partials
   * rows, no fleet rows (those the older worker wrote are replaced by the first roll-up of their month).
   */
  const withoutPartials = (lake: Lake): Workload => {
    const w = workloadOn(lake);
    const drop = (out: BatchOutputs) => out.appends.delete(FLEET_PARTIALS.path);
    return {
      ...w,
      tables: w.tables.filter((t) => t.path !== FLEET_PARTIALS.path),
      newProcessor(partition, saved) {
        const p = w.newProcessor(partition, saved);
        return {
          ...p,
          process: (m, out) => {
            p.process(m, out);
            drop(out);
          },
          flush: (out) => {
            p.flush(out);
            drop(out);
          },
        };
      },
      afterCommit: undefined,
    };
  };

  /**
   * A lake written without partials up to message `cut` (mid-January, January predicted for days),
   * then `upgrade` (the new workers' start), then a worker of today goes on from its manifests.
   */
  async function upgradedMidMonth(cut: number, upgrade: (lake: Lake) => Promise<void>): Promise<Lake> {
    const lake = await freshLake('file');
    opened.push(lake);
    const old = withoutPartials(lake);
    await ensureTables(lake, old);
    const before = await adopt(worker(lake, old, ALL, 'old'));
    for (let from = 0; from < cut; from += SIZE)
      await commit(before, msgs.slice(from, Math.min(cut, from + SIZE)));
    assert.equal(
      await lake.table(FLEET_PARTIALS.path).exists(),
      false,
      'no partials table before the upgrade',
    );
    const jan = await lake.query(
      `SELECT count(DISTINCT as_of_day) AS days FROM meters_gold_predictions WHERE month = '2013-01'`,
    );
    assert.ok(Number(jan.rows[0].days) >= 3, 'January predicted on several days before the upgrade');
    await upgrade(lake);
    const after = await adopt(worker(lake, workloadOn(lake), ALL, 'new'));
    for (let from = cut; from < msgs.length; from += SIZE) await commit(after, msgs.slice(from, from + SIZE));
    await commit(after, [], true);
    return lake;
  }

  it('a lake written before the partials, upgraded mid-month, is seeded once and ends with the fleet rows of one that had them all along', async () => {
    const cut = Math.floor(msgs.length * 0.45);
    const lake = await upgradedMidMonth(cut, async (l) => {
      // two workers starting at once, then one restarting: the partials are seeded once
      await Promise.all([ensureTables(l, workloadOn(l)), ensureTables(l, workloadOn(l))]);
      await ensureTables(l, workloadOn(l));
      const history = await l.table(FLEET_PARTIALS.path).history();
      assert.deepEqual(
        history.map((h) => h.operation),
        ['CREATE TABLE AS SELECT'],
        'one version: the creation, holding the seed',
      );
      assert.ok((await l.table(FLEET_PARTIALS.path).snapshot()).files.length > 0, 'seed rows');
    });
    assert.deepEqual(await fleetRows(lake), await fleetRows(reference));
    // and without the seed (the table created empty, as the worker did before), the fleet rows of
    // January would cover only what arrived after the upgrade: the test above can fail
    const unseeded = await upgradedMidMonth(cut, async (l) => {
      for (const t of workloadOn(l).tables) await l.table(t.path).ensure(t.spec);
    });
    const jan = (rows: FleetRow[]) => rows.filter((r) => r.key.includes('|2013-01|'));
    assert.notDeepEqual(jan(await fleetRows(unseeded)), jan(await fleetRows(reference)));
  });
});
