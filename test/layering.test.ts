// The layering of src/: every import points down the ranks of docs/architecture.md's table, passes
// the lake's, storage's, transport's and engine's front doors, and closes no cycle. The checker
// (scripts/layering.ts) is shown to fail on small made-up trees.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { breaks, importsOf, type LayerRule, readTree, ruleFromDoc } from '../scripts/layering.ts';

const ROOT = join(import.meta.dirname, '..');

describe('the layering of src/', () => {
  it('keeps the rule docs/architecture.md states: imports point down, through front doors, in no cycle', async () => {
    const rule = ruleFromDoc(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));
    const found = breaks(await readTree(ROOT), rule);
    assert.deepEqual(found, []);
  });

  it('reads the rule from the doc: ranks from errors up to cli, and four front doors', () => {
    const rule = ruleFromDoc(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));
    assert.deepEqual(rule.ranks[0], ['errors']);
    assert.deepEqual(rule.ranks.at(-1), ['cli']);
    assert.ok(rule.ranks.every((r) => r.length > 0));
    assert.deepEqual([...rule.frontDoors].sort(), ['engine', 'lake', 'storage', 'transport']);
  });

  it('names in docs/architecture.md only source files that exist', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const named = [...doc.matchAll(/`(src\/[\w./-]+\.ts)`/g)].map((m) => m[1]);
    assert.ok(named.length > 20, `the reading's path names its files (${named.length} found)`);
    assert.deepEqual(
      named.filter((f) => !existsSync(join(ROOT, f))),
      [],
    );
  });
});

describe('the layering checker on a made-up tree', () => {
  const rule: LayerRule = { ranks: [['errors'], ['lake'], ['stream'], ['cli']], frontDoors: ['lake'] };
  const tree = (files: Record<string, string>) => new Map(Object.entries(files));
  const clean = {
    'src/errors.ts': 'export class E {}',
    'src/lake/index.ts': "export { T } from './table.ts';",
    'src/lake/table.ts': "import { E } from '../errors.ts';\nexport class T {}",
    'src/stream/worker.ts': "import { T } from '../lake/index.ts';",
    'src/cli/main.ts': "import '../stream/worker.ts';",
  };

  it('finds nothing in a tree that keeps the rule', () => {
    assert.deepEqual(breaks(tree(clean), rule), []);
  });

  it('fails an import up a layer, and one between two folders of the same rank', () => {
    const found = breaks(
      tree({ ...clean, 'src/lake/vacuum.ts': "import type { W } from '../stream/worker.ts';" }),
      rule,
    );
    assert.deepEqual(found, [
      'src/lake/vacuum.ts imports src/stream/worker.ts: lake may not import stream (not below it)',
    ]);
    const peers: LayerRule = { ranks: [['errors'], ['lake', 'stream']], frontDoors: [] };
    assert.deepEqual(
      breaks(tree({ 'src/stream/a.ts': "import '../lake/b.ts';", 'src/lake/b.ts': '' }), peers),
      ['src/stream/a.ts imports src/lake/b.ts: stream may not import lake (not below it)'],
    );
  });

  it("fails an import past a front door, and lets a sub-folder's own index through", () => {
    const found = breaks(
      tree({
        ...clean,
        'src/lake/duck/index.ts': '',
        'src/stream/worker.ts': "import { T } from '../lake/table.ts';\nimport '../lake/duck/index.ts';",
      }),
      rule,
    );
    assert.deepEqual(found, [
      'src/stream/worker.ts imports src/lake/table.ts: past the front door src/lake/index.ts',
    ]);
  });

  it('fails two files that import each other (a type import counts), and a longer cycle', () => {
    const two = breaks(
      tree({
        ...clean,
        'src/lake/log.ts': "import type { T } from './table.ts';",
        'src/lake/table.ts': "import './log.ts';",
      }),
      rule,
    );
    assert.deepEqual(two, ['import cycle: src/lake/log.ts → src/lake/table.ts → src/lake/log.ts']);
    const three = breaks(
      tree({
        'src/errors.ts': "export * from './a.ts';",
        'src/a.ts': "const m = await import('./b.ts');",
        'src/b.ts': "import './errors.ts';",
      }),
      { ranks: [['errors', 'a', 'b']], frontDoors: [] },
    );
    assert.equal(three.length, 1 + 3, 'the cycle, and three imports between folders of one rank');
    assert.ok(three.includes('import cycle: src/a.ts → src/b.ts → src/errors.ts → src/a.ts'));
  });

  it('fails a folder the rule does not rank', () => {
    assert.deepEqual(breaks(tree({ ...clean, 'src/extra/x.ts': '' }), rule), [
      'src/extra/x.ts: folder "extra" has no rank in the rule',
    ]);
  });

  it('reads static, type, re-export and dynamic imports, and skips packages, node: and comments', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../lake/b.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "import './e.ts';",
      "const f = await import('./f.ts');",
      "import { parseArgs } from 'node:util';",
      "import { Table } from 'apache-arrow';",
      "// import { g } from './g.ts';",
      "/* import { h } from './h.ts'; */",
    ].join('\n');
    assert.deepEqual(importsOf('src/stream/x.ts', source), [
      'src/stream/a.ts',
      'src/lake/b.ts',
      'src/stream/c.ts',
      'src/stream/d.ts',
      'src/stream/e.ts',
      'src/stream/f.ts',
    ]);
  });
});
