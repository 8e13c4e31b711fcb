import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLakestreamError } from '../errors.ts';
import { parseProducerPerformance } from './tools.ts';

describe("Kafka's ProducerPerformance output", () => {
  it('reads throughput and latency percentiles from the summary line', () => {
    const out = [
      '21053 records sent, 4207.2 records/sec (0.80 MB/sec), 3513.0 ms avg latency, 5784.0 ms max latency.',
      '50000 records sent, 3175.611305 records/sec (0.61 MB/sec), 5813.38 ms avg latency, 10627.00 ms max latency, 5918 ms 50th, 10196 ms 95th, 10539 ms 99th, 10627 ms 99.9th.',
    ].join('\n');
    const r = parseProducerPerformance(out);
    assert.equal(r.records, 50000);
    assert.equal(r.recordsPerSec, 3175.611305);
    assert.equal(r.mbPerSec, 0.61);
    assert.equal(r.p99Ms, 10539);
    assert.equal(r.p999Ms, 10627);
  });

  it('names the problem when the run printed no summary', () => {
    assert.throws(
      () =>
        parseProducerPerformance(
          'org.apache.kafka.common.errors.TimeoutException: Topic x not present in metadata',
        ),
      (e) => isLakestreamError(e, 'BAD_INPUT') && e.message.includes('TimeoutException'),
    );
  });
});
