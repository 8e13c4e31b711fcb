import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeByTime, sortByTime } from './order.ts';
import type { SourceMessage } from './source.ts';
import { take } from './testing.ts';

const msg = (key: string | null, time: number | undefined, value: string | Buffer): SourceMessage => ({
  key,
  time,
  value: typeof value === 'string' ? Buffer.from(value) : value,
});

async function* batches(ms: SourceMessage[], size = 3) {
  for (let i = 0; i < ms.length; i += size) yield ms.slice(i, i + size);
}

describe('event-time order', () => {
  it('keeps the mark of an unparsed row through a spilled run, so the producer still counts it', async () => {
    const input: SourceMessage[] = [];
    for (let i = 0; i < 10; i++)
      input.push(
        i % 3 === 0 ? { ...msg(null, undefined, `bad${i}`), unparsed: true } : msg('m', i, `ok${i}`),
      );
    const out = await take(sortByTime(batches(input), { runSize: 4 }));
    assert.equal(out.length, 10);
    assert.deepEqual(
      out.filter((m) => m.unparsed).map((m) => Buffer.from(m.value).toString()),
      ['bad0', 'bad3', 'bad6', 'bad9'],
    );
    assert.ok(out.filter((m) => !m.unparsed).every((m) => m.key === 'm'));
  });

  it('merges time-ordered inputs, ties going to the earlier input', async () => {
    const a = [msg('a', 1, 'a1'), msg('a', 3, 'a3'), msg('a', 5, 'a5')];
    const b = [msg('b', 1, 'b1'), msg('b', 2, 'b2'), msg('b', 6, 'b6')];
    const out = await take(mergeByTime([batches(a), batches(b, 1)]));
    assert.deepEqual(
      out.map((m) => Buffer.from(m.value).toString()),
      ['a1', 'b1', 'b2', 'a3', 'a5', 'b6'],
    );
  });

  it('sorts an input grouped by meter through spilled runs, stable, keeping null keys and any bytes', async () => {
    const meters = ['m1', 'm2', 'm3'];
    const input: SourceMessage[] = [];
    for (const m of meters) for (let t = 0; t < 10; t++) input.push(msg(m, t * 1000, `${m}@${t}`));
    // an unparsed row (no time, null key) after m2@4, and raw bytes that are not UTF-8
    input.splice(15, 0, msg(null, undefined, Buffer.from([0xff, 0x00, 0x0a, 0x09])));
    const out = await take(sortByTime(batches(input, 4), { runSize: 7 }));
    assert.equal(out.length, input.length);
    const names = out.map((m) => (m.key === null ? 'raw' : Buffer.from(m.value).toString()));
    assert.deepEqual(names.slice(0, 6), ['m1@0', 'm2@0', 'm3@0', 'm1@1', 'm2@1', 'm3@1']);
    // the unparsed row travels with the message before it (m2@4)
    assert.equal(names[names.indexOf('m2@4') + 1], 'raw');
    assert.deepEqual(Buffer.from(out[names.indexOf('raw')].value), Buffer.from([0xff, 0x00, 0x0a, 0x09]));
    assert.equal(out[names.indexOf('raw')].key, null);
    for (let i = 1; i < out.length; i++) assert.ok(out[i].time! >= out[i - 1].time!);
  });

  it('keeps a leading untimed message (a bad header) first and without a time, in memory or spilled', async () => {
    for (const runSize of [100, 2]) {
      const input = [msg(null, undefined, 'header'), msg('m', 2, 'b'), msg('m', 1, 'a'), msg('m', 3, 'c')];
      const out = await take(sortByTime(batches(input), { runSize }));
      assert.deepEqual(
        out.map((m) => `${Buffer.from(m.value)}@${m.time}`),
        ['header@undefined', 'a@1', 'b@2', 'c@3'],
        `runSize ${runSize}`,
      );
    }
  });
});
