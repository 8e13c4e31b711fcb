// Issue 19: every example in every command's --help and in the README's shell blocks runs, as written,
// and succeeds — against a prepared short replay (20,000 London readings streamed into the lake).
// The examples on the local cluster run in the cluster phase: test/cli/cluster-examples.cluster.test.ts.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/main.ts';
import {
  type Example,
  exampleHome,
  helpExamples,
  needsCluster,
  preparedReplay,
  readmeExamples,
  removeHome,
  runExample,
} from './examples.ts';

const help = await helpExamples();
const readme = await readmeExamples();
const all: Example[] = [...help, ...readme];
const local = all.filter((e) => !needsCluster(e.args));

describe('the examples of --help and of the README', { timeout: 1_800_000 }, () => {
  let prepared: string;

  before(async () => {
    prepared = await preparedReplay();
  });
  after(async () => {
    if (prepared) await removeHome(join(prepared, '..'));
  });

  it('are found: in the help of most commands and in the README, each naming a real command', () => {
    const commands = new Set(help.map((e) => e.from.split(' ')[0]));
    for (const c of ['produce', 'stream', 'status', 'train', 'model', 'lake', 'sql', 'profile', 'cluster'])
      assert.ok(commands.has(c), `${c} --help has examples`);
    assert.ok(readme.length >= 5, readme.map((e) => e.line).join('\n'));
    for (const e of all) assert.ok(e.args[0] in COMMANDS, `${e.from}: ${e.line}`);
    // the cluster ones are not dropped: they run in the cluster phase
    assert.ok(all.some((e) => needsCluster(e.args)));
  });

  for (const e of local)
    it(`${e.from}: lakestream ${e.args.join(' ')}`, async () => {
      const home = await exampleHome(prepared);
      const r = await runExample(e.args, home);
      await removeHome(home);
      assert.equal(r.code, 0, `${e.from}: ${e.line}\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-1000)}`);
    });
});
