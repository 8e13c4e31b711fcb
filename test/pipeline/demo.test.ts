// Issue 3 acceptance: the README's demo command, in a fresh clone with no ../shared beside it,
// runs the simulator path to the end of its bounded run and serves the dashboard.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.ts';

describe('the demo in a fresh clone without sample data', { timeout: 900_000 }, () => {
  it('simulates meters, streams them into the lake, trains, and serves the dashboard', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lakestream-clone-'));
    const clone = join(dir, 'lakestream');
    const git = spawnSync('git', ['clone', '-q', ROOT, clone], { encoding: 'utf8' });
    assert.equal(git.status, 0, git.stderr);
    assert.ok(!existsSync(join(dir, 'shared')), 'no ../shared beside the clone');
    // The clone's own dependencies are those of this checkout (npm ci would fetch the same lockfile).
    await symlink(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');

    const env = { ...process.env };
    delete env.LAKESTREAM_DATA;
    // What `npx lakestream demo` runs: the clone's bin on the pinned Node (SIGINT then reaches the
    // demo itself, as Ctrl-C in a terminal does).
    const demo = spawn(process.execPath, [join(clone, 'bin/lakestream.js'), 'demo', '--port', '0'], {
      cwd: clone,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    demo.stdout.on('data', (d) => (out += d));
    demo.stderr.on('data', (d) => (err += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no dashboard after 12 min\n${out}\n${err.slice(-3000)}`)),
        720_000,
      );
      demo.stdout.on('data', () => {
        const m = /Dashboard: (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      demo.on('close', (code) =>
        reject(new Error(`demo exited ${code} before serving\n${out}\n${err.slice(-3000)}`)),
      );
    });
    try {
      assert.match(out, /no sample data found: simulating meters/);
      assert.match(out, /stream: read ([\d,]+), accepted \1, quarantined 0, duplicates dropped 0/);
      assert.match(out, /model consumption v\d+ retrained on the lake/);
      // counts are printed with thousands separators (docs/cli.md)
      const bronze = /meters\/bronze\/readings\s+([\d,]+) rows/.exec(out);
      assert.ok(bronze && Number(bronze[1].replaceAll(',', '')) > 100_000, `bronze rows: ${bronze?.[1]}`);
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
    } finally {
      const exited = new Promise<number | null>((r) => demo.once('close', (code) => r(code)));
      demo.kill('SIGINT');
      assert.equal(await exited, 0, 'Ctrl-C stops the demo cleanly');
    }
  });
});
