import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmur2 as platformaticMurmur2 } from '@platformatic/kafka';
import { murmur2, partitionForKey } from './murmur2.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur2 key partitioning', () => {
  it("matches the hashes in Kafka's own UtilsTest", () => {
    // Expected values from apache/kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
    assert.equal(murmur2(bytes('21')), -973932308);
    assert.equal(murmur2(bytes('foobar')), -790332482);
    assert.equal(murmur2(bytes('a-little-bit-long-string')), -985981536);
    assert.equal(murmur2(bytes('a-little-bit-longer-string')), -1486304829);
    assert.equal(murmur2(bytes('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')), -58897971);
    assert.equal(murmur2(new Uint8Array([97, 98, 99])), 479470107);
  });

  it('agrees with the Kafka client library on every length and on non-ASCII keys', () => {
    for (let n = 0; n < 64; n++) {
      const key = Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i * 31 + n) % 90))).join('');
      assert.equal(murmur2(bytes(key)), platformaticMurmur2(Buffer.from(key)), `key "${key}"`);
    }
    for (const key of ['MAC000002', 'compteur-é', '水表-17', '🙂meter']) {
      assert.equal(murmur2(bytes(key)), platformaticMurmur2(Buffer.from(key, 'utf8')), key);
    }
  });

  it('puts a key in a partition within range, the same one every time', () => {
    for (const parts of [1, 2, 6, 7]) {
      for (let i = 0; i < 200; i++) {
        const p = partitionForKey(`meter-${i}`, parts);
        assert.ok(p >= 0 && p < parts);
        assert.equal(partitionForKey(`meter-${i}`, parts), p);
      }
    }
  });
});
