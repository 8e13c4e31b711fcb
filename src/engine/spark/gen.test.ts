// gen/ is what the generator makes from the pinned jar's protos, file for file: nothing in it is edited
// by hand, and a change of generator or jar shows here until `npm run gen:spark` is run again.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const GEN = join(import.meta.dirname, 'gen');
const SCRIPT = join(import.meta.dirname, '..', '..', '..', 'scripts', 'gen-spark-connect.ts');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name !== 'biome.json')
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

describe('the generated Spark Connect code', () => {
  it('is exactly what protoc-gen-es makes from the spark-connect jar', { timeout: 300_000 }, async () => {
    const out = await mkdtemp(join(tmpdir(), 'spark-connect-gen-'));
    try {
      const r = spawnSync(process.execPath, [SCRIPT, '--out', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(files(out), files(GEN));
      assert.ok(files(GEN).includes(join('spark', 'connect', 'base_pb.js')));
      for (const f of files(GEN)) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(GEN, f))), f);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
