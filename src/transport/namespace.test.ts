import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openTransport } from './open.ts';
import { runTransportSuite } from './suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'lakestream-ns-'));
runTransportSuite('embedded behind a namespace', () => openTransport(`embedded:${dir}#ns=run1.`));

describe('transport namespaces', () => {
  it('keep two pipelines on one log apart', async () => {
    const a = await openTransport(`embedded:${dir}#ns=a.`);
    const b = await openTransport(`embedded:${dir}#ns=b.`);
    const plain = await openTransport(`embedded:${dir}`);
    try {
      await a.ensureTopic('readings', 2);
      const p = await a.producer();
      await p.send('readings', [{ key: 'k', value: new TextEncoder().encode('x') }]);
      await p.close();
      assert.deepEqual(
        (await a.listTopics()).map((t) => t.name),
        ['readings'],
      );
      assert.ok(!(await b.listTopics()).some((t) => t.name === 'readings'));
      assert.ok((await plain.listTopics()).some((t) => t.name === 'a.readings'));
    } finally {
      await Promise.all([a.close(), b.close(), plain.close()]);
    }
  });
});
