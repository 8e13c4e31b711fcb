import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSource } from '../open-source.ts';
import { fixture, take } from '../testing.ts';

describe('jsonl replay', () => {
  it('sends every line byte for byte, unparsed, keyed by null: invalid UTF-8, bad JSON and empty lines included', async () => {
    const lines = [
      Buffer.from(
        '{"v":1,"meter_id":"M1","kind":"electricity","ts":"2013-01-01T00:00:00Z","value":1,"unit":"kWh","type":"interval","seq":0}',
      ),
      Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0x7d]), // "{", invalid UTF-8, "\"}"
      Buffer.from('{"value": NaN'),
      Buffer.from(''),
      Buffer.from('  {"a":"é"}\r'),
      Buffer.from('last line without newline'),
    ];
    const path = await fixture(
      'captured.jsonl',
      Buffer.concat(lines.flatMap((l, i) => (i < lines.length - 1 ? [l, Buffer.from('\n')] : [l]))),
    );
    const source = await openSource({ source: 'jsonl', files: [path] });
    const ms = await take(source.batches());
    assert.equal(ms.length, lines.length);
    ms.forEach((m, i) => {
      assert.deepEqual(Buffer.from(m.value), lines[i], `line ${i + 1}`);
      assert.equal(m.key, null);
    });
    assert.equal(source.topic, 'meters.readings');
  });

  it('reads a gzipped capture the same way', async () => {
    const path = await fixture('captured.jsonl.gz', 'a\nb\n');
    const ms = await take((await openSource({ source: 'jsonl', files: [path] })).batches());
    assert.deepEqual(
      ms.map((m) => Buffer.from(m.value).toString()),
      ['a', 'b'],
    );
  });
});
