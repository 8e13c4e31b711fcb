// The dashboard and the server share one contract: the pages take their response types from the
// server's modules, and only types, so the browser bundle holds no server code.

import assert from 'node:assert/strict';
import { glob, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const WEB = import.meta.dirname;

/** Every import of a web source: its path resolved, and whether it is type-only. */
async function imports(): Promise<{ file: string; target: string; typeOnly: boolean }[]> {
  const out: { file: string; target: string; typeOnly: boolean }[] = [];
  for await (const f of glob('**/*.ts', { cwd: WEB })) {
    if (f.endsWith('.test.ts') || f.startsWith('dist/')) continue;
    const text = await readFile(join(WEB, f), 'utf8');
    for (const m of text.matchAll(/^import (type )?[^'"]*?['"]([^'"]+)['"];/gms))
      if (m[2].startsWith('.'))
        out.push({ file: f, target: resolve(dirname(join(WEB, f)), m[2]), typeOnly: m[1] !== undefined });
  }
  return out;
}

test('the pages import the server only for types, so the browser bundle holds no server code', async () => {
  const fromServer = (await imports()).filter((i) => relative(WEB, i.target).startsWith('..'));
  assert.ok(fromServer.length >= 5, 'the pages take their response types from the server');
  const values = fromServer.filter((i) => !i.typeOnly).map((i) => `${i.file} → ${relative(WEB, i.target)}`);
  assert.deepEqual(values, []);
});

test('no page declares a response type of its own: each comes from the server', async () => {
  const declared: string[] = [];
  for await (const f of glob('pages/*.ts', { cwd: WEB })) {
    if (f.endsWith('.test.ts')) continue;
    const text = await readFile(join(WEB, f), 'utf8');
    for (const m of text.matchAll(/\bget<\{|\bpost<\{/g)) declared.push(`${f}: an inline type at ${m.index}`);
    for (const m of text.matchAll(/^(?:export )?interface (\w+)/gm)) declared.push(`${f}: interface ${m[1]}`);
  }
  assert.deepEqual(declared, []);
});
