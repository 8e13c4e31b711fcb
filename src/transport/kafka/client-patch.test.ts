import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kafkaClientPatched } from './client-patch.ts';

const ROOT = join(import.meta.dirname, '../../..');

describe('the Kafka client fix (patches/)', () => {
  it('is applied to the installed client', () => {
    assert.equal(kafkaClientPatched(), true, 'npm ci runs patch-package (package.json postinstall)');
  });

  it('is made for the installed version: a client upgrade must carry the fix over', () => {
    const version = JSON.parse(
      readFileSync(join(ROOT, 'node_modules/@platformatic/kafka/package.json'), 'utf8'),
    ).version;
    const patches = readdirSync(join(ROOT, 'patches')).filter((f) => f.startsWith('@platformatic+kafka+'));
    assert.deepEqual(patches, [`@platformatic+kafka+${version}.patch`]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(
      pkg.dependencies['@platformatic/kafka'],
      version,
      'the client is pinned to the patched version',
    );
    assert.equal(pkg.scripts.postinstall, 'patch-package');
  });
});
