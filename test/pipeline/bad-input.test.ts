// Issue 3 acceptance: a corpus of bad input, replayed byte for byte; every message is quarantined
// with the right reason or correctly accepted, and the worker never stops.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lake } from '../../src/lake/index.ts';
import { cli, freshEngines } from '../helpers/cli.ts';

const good = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    v: 1,
    meter_id: 'BAD-TEST-1',
    kind: 'electricity',
    ts: new Date(Date.parse('2013-03-01T00:00:00Z') + i * 1_800_000).toISOString(),
    value: 0.25,
    unit: 'kWh',
    type: 'interval',
    seq: i,
    ...extra,
  });

/** [line bytes, expected reason or 'accepted' | 'duplicate'] */
const corpus: [Buffer, string][] = [
  [Buffer.from(good(0)), 'accepted'],
  [Buffer.from('{"v":1,"meter_id":"BAD-TEST-1",'), 'malformed-json'],
  [Buffer.from('not json at all'), 'malformed-json'],
  [
    Buffer.from(
      JSON.stringify({
        v: 1,
        meter_id: 'BAD-TEST-1',
        kind: 'electricity',
        value: 1,
        unit: 'kWh',
        type: 'interval',
        seq: 1,
      }),
    ),
    'missing-field',
  ],
  [Buffer.from(good(2, { value: 'abc' })), 'wrong-type'],
  [Buffer.from(good(3).replace('0.25', 'NaN')), 'malformed-json'],
  [Buffer.from(good(4).replace('0.25', 'Infinity')), 'malformed-json'],
  [Buffer.from(good(5, { value: 'NaN' })), 'not-finite'],
  [Buffer.from(good(6, { value: -0.5 })), 'negative-interval'],
  [Buffer.from(good(7, { ts: '2999-01-01T00:00:00Z' })), 'future-timestamp'],
  [Buffer.from(good(8, { ts: '1969-12-31T23:30:00Z' })), 'pre-1970'],
  [Buffer.from(good(9, { unit: 'MWh' })), 'unknown-unit'],
  [Buffer.from(good(10, { pad: 'x'.repeat(1024 * 1024) })), 'too-large'],
  [
    Buffer.concat([
      Buffer.from('{"v":1,"meter_id":"BAD-TEST-'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]),
    'invalid-utf8',
  ],
  [Buffer.from(good(11)), 'accepted'],
  [Buffer.from(good(11)), 'duplicate'],
  [Buffer.from(good(14)), 'accepted'],
  [Buffer.from(good(12)), 'accepted'], // out of order, still on time
  [Buffer.from(good(13)), 'accepted'],
  [Buffer.from(good(15, { kind: 'gas' })), 'unknown-kind'],
  [Buffer.from(good(16, { value: 1e9 })), 'out-of-bounds'],
  [Buffer.from(good(17, { ts: '2013-03-01 08:30' })), 'bad-timestamp'],
];

describe('a bad-input corpus replayed byte for byte', () => {
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let lake: Lake;
  let streamOutput = '';

  before(async () => {
    engines = await freshEngines();
    const file = join(engines.dir, 'corpus.jsonl');
    await writeFile(file, Buffer.concat(corpus.flatMap(([b]) => [b, Buffer.from('\n')])));
    await cli(['produce', '--source', 'jsonl', '--file', file, ...engines.produceFlags]);
    streamOutput = (await cli(['stream', '--drain', ...engines.flags])).stdout;
    lake = await Lake.open(engines.lake);
  });
  after(async () => lake?.close());

  it('quarantines each bad message with its reason, keeping the raw bytes and position', async () => {
    const q = await lake.query(
      'SELECT reason, topic, "partition", "offset", raw FROM meters_quarantine_readings',
      {
        maxRows: 100,
      },
    );
    const bad = corpus.filter(([, why]) => why !== 'accepted' && why !== 'duplicate');
    assert.equal(q.rows.length, bad.length);
    for (const r of q.rows) {
      const raw = Buffer.from(r.raw as Uint8Array);
      const entry = bad.find(([b]) => b.equals(raw));
      assert.ok(entry, `quarantined bytes that are not in the corpus: ${raw.subarray(0, 60)}`);
      assert.equal(r.reason, entry[1], `reason for ${raw.subarray(0, 60)}`);
      assert.equal(r.topic, 'meters.readings');
      assert.ok(Number(r.offset) >= 0 && Number(r.partition) >= 0);
    }
    assert.deepEqual(q.rows.map((r) => r.reason).sort(), bad.map(([, why]) => why).sort());
  });

  it('accepts the good ones, out of order included, and drops the duplicate', async () => {
    const b = await lake.query(
      "SELECT seq FROM meters_bronze_readings WHERE meter_id = 'BAD-TEST-1' ORDER BY ts",
    );
    assert.deepEqual(
      b.rows.map((r) => Number(r.seq)),
      [0, 11, 12, 13, 14],
    );
    assert.match(streamOutput, /read 22, accepted 5, quarantined 16, duplicates dropped 1/);
  });
});
