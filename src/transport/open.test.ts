import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { isLakestreamError } from '../errors.ts';
import { openTransport } from './open.ts';

describe('openTransport', () => {
  it('opens the embedded log from a relative or absolute directory, sharing one file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-open-'));
    const a = await openTransport(`embedded:${dir}`);
    const b = await openTransport(`embedded:${relative(process.cwd(), dir)}`);
    try {
      assert.equal(a.url, `embedded:${dir}`);
      assert.equal(b.url, a.url);
      await a.ensureTopic('t', 2);
      assert.deepEqual(await b.listTopics(), [{ name: 't', partitions: 2 }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('takes sync and session timeout options from the embedded URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-open-'));
    const t = await openTransport(`embedded:${dir}?sync=full&sessionTimeoutMs=5000`);
    try {
      await t.ensureTopic('t', 1);
      const p = await t.producer();
      await p.send('t', [{ key: 'k', value: new Uint8Array([1]) }]);
      assert.deepEqual(await t.endOffsets('t'), [{ topic: 't', partition: 0, offset: 1 }]);
    } finally {
      await t.close();
    }
  });

  it('refuses an unknown scheme or an embedded URL without a directory, naming the URL', async () => {
    await assert.rejects(
      openTransport('redis://127.0.0.1:6379'),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT') && e.message.includes('redis://127.0.0.1:6379'),
    );
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-open-'));
    await assert.rejects(
      openTransport(`embedded:${dir}?fsync=always`),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT') && e.message.includes('fsync=always'),
    );
    await assert.rejects(
      openTransport(`embedded:${dir}?sync=sometimes`),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT') && e.message.includes('sometimes'),
    );
    await assert.rejects(
      openTransport('embedded:'),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT') && e.message.includes('embedded:'),
    );
  });
});
