import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateReading } from '../../domain/meters/reading.ts';
import { openLineFiles } from '../io/lines.ts';
import { openSource } from '../open-source.ts';
import type { FileStats, SourceMessage } from '../source.ts';
import { DATA, fixture, json, take } from '../testing.ts';
import { parseWater } from './water.ts';

const ZIP = `${DATA}meters/water/swm_trialA_clean.zip`;
const stats = (): FileStats => ({ label: '', messages: 0, unparsed: 0, skipped: 0 });

async function firstWhere(
  ms: AsyncIterable<SourceMessage[]>,
  pred: (r: Record<string, unknown>) => boolean,
  n: number,
) {
  const out = [];
  for await (const b of ms)
    for (const m of b) {
      const r = json(m);
      if (pred(r)) out.push(r);
      if (out.length >= n) return out;
    }
  return out;
}

describe('DAIAD water replay', () => {
  it('streams the CSV inside the zip and sends the cumulative register in litres at Madrid local time', async () => {
    const files = await openLineFiles(ZIP);
    assert.deepEqual(
      files.map((f) => f.label),
      ['swm_trialA_clean.zip/swm_trialA_clean.csv'],
    ); // __MACOSX skipped
    const [r] = (await take(parseWater(files[0], stats()), 1)).map(json);
    // 1f8730a9-…;01/03/2016 01:19:43;68321;0 — March: CET, +01:00
    assert.deepEqual(r, {
      v: 1,
      meter_id: '1f8730a9-5d67-4895-9215-6e247087ea00',
      kind: 'water',
      ts: '2016-03-01T01:19:43+01:00',
      value: 68321,
      unit: 'L',
      type: 'cumulative',
      seq: 0,
      tz: 'Europe/Madrid',
      src: 'swm_trialA_clean.zip/swm_trialA_clean.csv:2',
    });
    assert.equal(validateReading(r, { now: Date.parse('2020-01-01') }).ok, true);
  });

  it('reads the repeated hour of 30/10/2016 by file order: first +02:00 (summer), second +01:00 (winter)', async () => {
    const [file] = await openLineFiles(ZIP);
    // 1f8730a9-…;30/10/2016 02:08:53;100705;25 then the same wall time again, then 03:08:53
    const rs = await firstWhere(
      parseWater(file, stats()),
      (r) => r.meter_id === '1f8730a9-5d67-4895-9215-6e247087ea00' && String(r.ts).startsWith('2016-10-30T0'),
      4,
    );
    const ts = rs.map((r) => r.ts);
    assert.ok(ts.includes('2016-10-30T02:08:53+02:00'));
    assert.ok(ts.includes('2016-10-30T02:08:53+01:00'));
    assert.ok(ts.indexOf('2016-10-30T02:08:53+02:00') < ts.indexOf('2016-10-30T02:08:53+01:00'));
    assert.ok(ts.includes('2016-10-30T03:08:53+01:00'));
    // the two readings are an hour apart in real time
    assert.equal(
      Date.parse('2016-10-30T02:08:53+01:00') - Date.parse('2016-10-30T02:08:53+02:00'),
      3_600_000,
    );
  });

  it('switches to winter time when the wall clock goes back inside the repeated hour, and summer time ends there', async () => {
    const path = await fixture(
      'w.csv',
      [
        'user.key;datetime;meter.reading;diff',
        'm1;30/10/2016 01:50:00;10;0',
        'm1;30/10/2016 02:50:00;11;1',
        'm1;30/10/2016 02:10:00;12;1',
        'm1;30/10/2016 02:55:00;13;1',
        'm1;30/10/2016 03:05:00;14;1',
        'm1;31/10/2016 02:30:00;15;1',
        'm1;27/03/2016 02:30:00;9;0',
        'm1;32/10/2016 02:30:00;15;1',
      ].join('\n'),
    );
    const [file] = await openLineFiles(path);
    const st = stats();
    const ms = (await take(parseWater(file, st))).map(json);
    assert.deepEqual(
      ms.map((r) => r.ts ?? r.error),
      [
        '2016-10-30T01:50:00+02:00',
        '2016-10-30T02:50:00+02:00',
        '2016-10-30T02:10:00+01:00',
        '2016-10-30T02:55:00+01:00',
        '2016-10-30T03:05:00+01:00',
        '2016-10-31T02:30:00+01:00',
        '2016-03-27T02:30:00+01:00', // a wall time skipped by the spring change, read with the winter offset
        'datetime "32/10/2016 02:30:00" is not a calendar date',
      ],
    );
    assert.equal(st.unparsed, 1);
  });

  it('continues a meter’s seq across files (a trial and its extension) and orders both by time', async () => {
    const a = await fixture(
      'a.csv',
      'user.key;datetime;meter.reading;diff\nm1;01/03/2017 00:10:00;100;0\nm1;01/03/2017 01:10:00;103;3\n',
    );
    const b = await fixture(
      'b.csv',
      'user.key;datetime;meter.reading;diff\nm1;01/03/2017 02:10:00;104;1\nm2;01/03/2017 00:20:00;7;0\n',
    );
    const ms = (await take((await openSource({ source: 'water', files: [a, b] })).batches())).map(json);
    assert.deepEqual(
      ms.map((r) => `${r.meter_id}@${r.ts.slice(11, 16)} seq ${r.seq}`),
      ['m1@00:10 seq 0', 'm2@00:20 seq 0', 'm1@01:10 seq 1', 'm1@02:10 seq 2'],
    );
  });
});
