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

  it('is applied by a production install too, as the image makes it (npm ci --omit=dev)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.ok(pkg.dependencies['patch-package'], 'patch-package is a runtime dependency');
    // every `npm ci` of the Dockerfile runs after patches/ is copied in
    const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n');
    const installs = lines.flatMap((l, i) => (/RUN npm ci/.test(l) ? [i] : []));
    assert.equal(installs.length, 2);
    for (const i of installs) {
      const stage = lines.slice(0, i).findLastIndex((l) => l.startsWith('FROM '));
      assert.ok(
        lines.slice(stage, i).some((l) => /^COPY patches \.\/patches/.test(l)),
        `line ${i + 1}: patches/ copied before npm ci`,
      );
    }
  });
});
