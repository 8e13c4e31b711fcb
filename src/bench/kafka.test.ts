// Unit tests of `bench kafka`'s report (no cluster): the rows compare equal settings at every codec,
// the headline is the ratio against the tuned Java producer at the default codec with the untuned
// one beside it, and the codecs and port offset a run is given.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LakestreamError } from '../errors.ts';
import { parseKafkaUrl } from '../transport/kafka/index.ts';
import {
  benchCodecs,
  type CompressionRow,
  compressionRow,
  encodingCosts,
  formatKafkaBench,
  type KafkaBenchResult,
  median,
  roundOrder,
} from './kafka.ts';
import { portOffsetFromEnv } from './processes.ts';

const ours = (msgsPerSec: number) => ({
  records: 1000,
  seconds: 1000 / msgsPerSec,
  msgsPerSec,
  mbPerSec: 1,
  load1: 2,
  brokersCpuUsPerMsg: 5,
  cpuUsPerMsg: 3,
});
const java = (msgsPerSec: number) => ({ ...ours(msgsPerSec), p50Ms: 10, p99Ms: 20 });

function result(rows: CompressionRow[], over: Partial<KafkaBenchResult> = {}): KafkaBenchResult {
  const main = rows[0];
  return {
    bench: 'kafka',
    bootstrap: '127.0.0.1:11592',
    partitions: 6,
    replication: 2,
    messageBytes: 139,
    acks: 'all',
    defaultCompression: 'lz4',
    headlineCompression: main.compression,
    rounds: 3,
    rows,
    encoding: [
      {
        compression: 'lz4',
        recordsPerBatch: 1000,
        batchUsPerRecord: 1.2,
        compressUsPerRecord: 0.125,
        compressionRatio: 7.5,
      },
    ],
    ratioTuned: Math.round(main.ratioTuned * 100) / 100,
    ratio: Math.round(main.ratio * 100) / 100,
    goal: 1,
    meetsGoal: main.ratioTuned >= 1,
    loadAverage: { before: 3.5, after: 4.25 },
    endToEnd: { messages: 100, ratePerSec: 2000, p50Ms: 5, p99Ms: 9, maxMs: 12 },
    note: '',
    ...over,
  };
}

describe('bench kafka report', () => {
  it('swaps the equal-settings pair every round, so each side runs first as often as the other', () => {
    const firsts = { lakestream: 0, tuned: 0, defaults: 0 };
    for (let round = 1; round <= 6; round++) {
      const order = roundOrder(round);
      assert.deepEqual([...order].sort(), ['defaults', 'lakestream', 'tuned']);
      firsts[order[0]]++;
      // the pair runs side by side, before the defaults run
      assert.equal(order[2], 'defaults');
    }
    assert.deepEqual(firsts, { lakestream: 3, tuned: 3, defaults: 0 });
  });

  it('takes the median run of each side and divides the medians', () => {
    const row = compressionRow(
      'lz4',
      [ours(90), ours(120), ours(100)],
      [java(80), java(100), java(200)],
      [java(50), java(40), java(60)],
    );
    assert.equal(row.lakestream.msgsPerSec, 100);
    assert.deepEqual(row.lakestream.runs, [90, 120, 100]);
    assert.equal(row.kafkaTuned.msgsPerSec, 100);
    assert.equal(row.kafkaProducerPerformance.msgsPerSec, 50);
    assert.equal(row.ratioTuned, 1);
    assert.equal(row.ratio, 2);
    // an even count takes the lower middle run
    assert.equal(median([ours(4), ours(1), ours(3), ours(2)]).msgsPerSec, 2);
  });

  it('prints every codec against both Java set-ups, and the tuned ratio at the default codec as the headline', () => {
    const rows = [
      compressionRow('lz4', [ours(90_000)], [java(100_000)], [java(60_000)]),
      compressionRow('snappy', [ours(150_000)], [java(120_000)], [java(70_000)]),
    ];
    const text = formatKafkaBench(result(rows));
    assert.match(text, /^lz4\*\s+90000 \(\s+3\.0\)\s+100000\s+0\.90\s+60000\s+1\.50$/m);
    assert.match(text, /^snappy\s+150000 \(\s+3\.0\)\s+120000\s+1\.25\s+70000\s+2\.14$/m);
    assert.match(
      text,
      /^ratio at lz4 \(the default codec\) against the tuned Java producer: 0\.90 \(goal ≥ 1: NOT met\); against the Java defaults: 1\.50$/m,
    );
    assert.match(text, /load average 3\.5 → 4\.25/);
    assert.match(
      text,
      /^lz4 {5}the client's batch encoding \(1000 records\): 1\.200 µs CPU\/record, of which compression 0\.125 \(7\.5× smaller\)$/m,
    );
  });

  it("measures the client's batch encoding per codec, and the compression in it", () => {
    const msgs = Array.from({ length: 300 }, (_, i) => ({
      key: `MAC${String(i % 20).padStart(6, '0')}`,
      value: new TextEncoder().encode(
        JSON.stringify({ v: 1, meter_id: `MAC${i % 20}`, value: i % 7, unit: 'kWh' }),
      ),
    }));
    const costs = encodingCosts(msgs, ['none', 'lz4', 'zstd'], { recordsPerBatch: 200, samples: 1, ms: 20 });
    assert.deepEqual(
      costs.map((c) => [c.compression, c.recordsPerBatch]),
      [
        ['none', 200],
        ['lz4', 200],
        ['zstd', 200],
      ],
    );
    const [none, lz4, zstd] = costs;
    assert.equal(none.compressionRatio, 1);
    assert.equal(none.compressUsPerRecord, 0);
    // repetitive JSON: both codecs shrink it
    assert.ok(lz4.compressionRatio > 2 && zstd.compressionRatio > 2, JSON.stringify(costs));
    for (const c of costs)
      assert.ok(Number.isFinite(c.batchUsPerRecord) && c.batchUsPerRecord > 0, JSON.stringify(c));
    for (const c of [lz4, zstd]) assert.ok(c.compressUsPerRecord > 0, JSON.stringify(c));
  });

  it('names the codec of the headline when a run leaves the default codec out', () => {
    const rows = [compressionRow('snappy', [ours(150_000)], [java(120_000)], [java(70_000)])];
    const text = formatKafkaBench(result(rows));
    assert.match(
      text,
      /^ratio at snappy \(not the default codec, lz4\) against the tuned Java producer: 1\.25 \(goal ≥ 1: met\)/m,
    );
  });

  it('runs the default codec first, then the others; --short only the default; named codecs as given', () => {
    const def = parseKafkaUrl('kafka://127.0.0.1:9092').compression;
    const all = benchCodecs([], false);
    assert.equal(all[0], def);
    assert.deepEqual([...all].sort(), ['lz4', 'none', 'snappy', 'zstd']);
    assert.deepEqual(benchCodecs([], true), [def]);
    assert.deepEqual(benchCodecs(['zstd', 'none', 'zstd'], false), ['zstd', 'none']);
    assert.throws(
      () => benchCodecs(['brotli'], false),
      (e) => e instanceof LakestreamError && e.code === 'BAD_ARGUMENT' && /not "brotli"/.test(e.message),
    );
  });

  it('reads LAKESTREAM_PORT_OFFSET for a cluster the run starts', () => {
    assert.equal(portOffsetFromEnv({}), undefined);
    assert.equal(portOffsetFromEnv({ LAKESTREAM_PORT_OFFSET: '2500' }), 2500);
    assert.throws(
      () => portOffsetFromEnv({ LAKESTREAM_PORT_OFFSET: 'twenty' }),
      (e) => e instanceof LakestreamError && e.code === 'BAD_ARGUMENT',
    );
  });
});
