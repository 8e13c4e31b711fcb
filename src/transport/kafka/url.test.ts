import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLakestreamError } from '../../errors.ts';
import { checkTopicName, parseKafkaUrl } from './url.ts';

describe('Kafka transport URLs', () => {
  it('reads the bootstrap brokers in order, with defaults for the rest', () => {
    const s = parseKafkaUrl('kafka://127.0.0.1:9092,127.0.0.1:9094');
    assert.deepEqual(s.brokers, ['127.0.0.1:9092', '127.0.0.1:9094']);
    assert.equal(s.compression, 'lz4');
    assert.equal(s.replication, undefined);
  });

  it('takes options after a question mark', () => {
    const s = parseKafkaUrl(
      'kafka://localhost:9092/?replication=1&compression=zstd&linger=0&session=6000&client=bench',
    );
    assert.deepEqual(s.brokers, ['localhost:9092']);
    assert.equal(s.replication, 1);
    assert.equal(s.compression, 'zstd');
    assert.equal(s.lingerMs, 0);
    assert.equal(s.sessionTimeoutMs, 6000);
    assert.equal(s.clientId, 'bench');
  });

  for (const [url, says] of [
    ['kafka://', 'names no broker'],
    ['kafka://127.0.0.1', '"127.0.0.1" is not HOST:PORT'],
    ['kafka://127.0.0.1:99999', 'is not HOST:PORT'],
    ['kafka://127.0.0.1:9092?compression=brotli', 'compression must be one of'],
    ['kafka://127.0.0.1:9092?replicas=2', 'unknown option "replicas"'],
    ['kafka://127.0.0.1:9092?session=100', 'session must be a whole number'],
    ['http://127.0.0.1:9092', 'not a Kafka transport URL'],
  ])
    it(`refuses ${url} naming the problem`, () => {
      assert.throws(
        () => parseKafkaUrl(url),
        (e) => isLakestreamError(e, 'BAD_ARGUMENT') && e.message.includes(says),
      );
    });

  it('accepts Kafka topic names and refuses others', () => {
    checkTopicName('meters.readings');
    checkTopicName('a_b-C.9');
    for (const bad of ['', '.', '..', 'has space', 'slash/', 'x'.repeat(250)])
      assert.throws(
        () => checkTopicName(bad),
        (e) => isLakestreamError(e, 'BAD_ARGUMENT'),
      );
  });
});
