// `lakestream bench`: every scenario the README names is one the command runs, and an unknown one
// is refused with the list.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT, runCli } from '../helpers/cli.ts';

it("lists in --help every scenario the README's benchmark section names, and refuses others by name", async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Evaluation and benchmarks'));
  const named = [...section.slice(0, section.indexOf('\n## ', 3)).matchAll(/`([a-z]+)`/g)]
    .map((m) => m[1])
    .filter((n) => n !== 'compare');
  assert.ok(named.length >= 10, `scenarios in the README: ${named.join(', ')}`);
  const help = await runCli(['bench', '--help']);
  assert.equal(help.code, 0);
  for (const n of named) assert.match(help.stdout, new RegExp(`^  ${n} `, 'm'), `bench --help lists ${n}`);
  const bad = await runCli(['bench', 'nosuch']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /not "nosuch"/);
  for (const n of named) assert.ok(bad.stderr.includes(n), `the refusal names ${n}`);
});
