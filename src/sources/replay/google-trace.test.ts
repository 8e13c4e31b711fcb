import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSource } from '../open-source.ts';
import { DATA, fixture, json, take } from '../testing.ts';
import { traceTableOf } from './google-trace.ts';

const TRACE = `${DATA}cluster-trace/google-2011/`;

describe('Google 2011 trace replay', () => {
  it('tells the table of a file from its directory or name', () => {
    assert.equal(traceTableOf(`${TRACE}task_events/part-00000-of-00500.csv.gz`), 'task_events');
    assert.equal(traceTableOf(`${TRACE}job_events/part-00001-of-00500.csv.gz`), 'job_events');
    assert.equal(traceTableOf(`${TRACE}machine_events_with_header.csv.gz`), 'machine_events');
    assert.equal(traceTableOf(`${TRACE}task_usage_sample_with_header.csv.gz`), 'task_usage');
    assert.throws(() => traceTableOf('/tmp/other.csv.gz'), /cannot tell the trace table/);
  });

  it('sends each raw row with its table and file:line, keyed by job ID (machine ID for machine_events)', async () => {
    const te = await take(
      (
        await openSource({ source: 'google-2011', files: [`${TRACE}task_events/part-00000-of-00500.csv.gz`] })
      ).batches(),
      1,
    );
    assert.deepEqual(json(te[0]), {
      v: 1,
      table: 'task_events',
      src: 'part-00000-of-00500.csv.gz:1',
      row: '0,2,3418309,0,4155527081,0,70s3v5qRyCO/1PCdI6fVXnrW8FU/w+5CKRSa72xgcIo=,3,9,,,,',
    });
    assert.equal(te[0].key, '3418309');
    assert.equal(te[0].time, 0);
    const me = await take(
      (
        await openSource({ source: 'google-2011', files: [`${TRACE}machine_events_with_header.csv.gz`] })
      ).batches(),
      1,
    );
    // the header line is not sent; lines keep counting it
    assert.deepEqual(json(me[0]), {
      v: 1,
      table: 'machine_events',
      src: 'machine_events_with_header.csv.gz:2',
      row: '0,5,0,HofLGzk1Or/8Ildj2+Lqv0UGGvY82NLoni8+J/Yy0RU=,0.5,0.2493',
    });
    assert.equal(me[0].key, '5');
  });

  it('merges shards into trace-time order, microseconds read as event time', async () => {
    const source = await openSource({
      source: 'google-2011',
      files: [
        `${TRACE}job_events/part-00001-of-00500.csv.gz`,
        `${TRACE}job_events/part-00000-of-00500.csv.gz`,
      ],
    });
    assert.equal(source.topic, 'trace.events');
    const ms = await take(source.batches());
    assert.equal(ms.length, 10_704 + 3_099);
    for (let i = 1; i < ms.length; i++)
      assert.ok(ms[i].time! >= ms[i - 1].time!, `message ${i} goes back in trace time`);
    const srcs = ms.map((m) => json(m).src as string);
    // part-00000 (0 … 5,611 s) comes before part-00001 (5,612 s …) although given second
    assert.ok(srcs[0].startsWith('part-00000'));
    assert.ok(srcs.at(-1)!.startsWith('part-00001'));
    // microseconds: the last job event of part-00001 is near 10,622 s of trace time
    assert.ok(ms.at(-1)!.time! > 10_000_000 && ms.at(-1)!.time! < 10_623_000);
  });

  it('interleaves rows of shards by timestamp, and keeps a row with an unreadable timestamp in its file position', async () => {
    const a = await fixture(
      'task_events/part-a.csv',
      '700000000,,1,0,,0,u,0,0,,,,\n900000000,,1,1,,0,u,0,0,,,,\nBAD,,1,2,,0,u,0,0,,,,\n1100000000,,1,3,,0,u,0,0,,,,\n',
    );
    const b = await fixture(
      'task_events/part-b.csv.gz',
      '800000000,,2,0,,0,u,0,0,,,,\n1000000000,,2,1,,0,u,0,0,,,,\n',
    );
    const ms = await take((await openSource({ source: 'google-2011', files: [a, b] })).batches());
    assert.deepEqual(
      ms.map((m) => json(m).row.split(',')[0]),
      ['700000000', '800000000', '900000000', 'BAD', '1000000000', '1100000000'],
    );
    assert.deepEqual(
      ms.map((m) => m.key),
      ['1', '2', '1', '1', '2', '1'],
    );
  });

  it('starts the --speed clock at the 600 s window opening, not at trace time 0', async () => {
    const source = await openSource({
      source: 'google-2011',
      files: [`${TRACE}job_events/part-00001-of-00500.csv.gz`],
    });
    assert.equal(source.clockStart, 600_000);
  });
});
