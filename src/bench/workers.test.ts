import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { childOf } from './processes.ts';
import { CRASH_TAIL_LINES, tailLines, Workers } from './rig.ts';

/** A stand-in worker: writes `lines` numbered lines to stderr, then exits with `code` (or waits to be stopped). */
const standIn = (lines: number, code: number | 'wait') => () =>
  childOf(
    spawn(
      process.execPath,
      [
        '-e',
        `for (let i = 1; i <= ${lines}; i++) process.stderr.write('line ' + i + '\\n');
         ${code === 'wait' ? 'setInterval(() => {}, 1000);' : `process.exitCode = ${code};`}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );

async function workersIn(spawnWorker: () => ReturnType<ReturnType<typeof standIn>>) {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-workers-'));
  const crashDir = join(dir, 'report');
  const w = new Workers({
    group: 'g',
    transportUrl: 'memory:t',
    lakeUrl: 'memory:l',
    dir,
    env: {},
    crashDir,
    spawn: spawnWorker,
  });
  return { w, dir, crashDir };
}

describe('the bench rig’s stream workers', () => {
  it('records a worker that exits on its own: its exit and the last lines of its stderr, in a file', async () => {
    const { w, dir, crashDir } = await workersIn(standIn(100, 3));
    try {
      const child = w.start();
      await child.exited;
      const [crash, ...more] = await w.crashed();
      assert.equal(more.length, 0);
      assert.equal(crash.code, 3);
      assert.equal(crash.signal, null);
      assert.equal(crash.worker, 0);
      const lines = crash.stderr_tail.split('\n');
      assert.equal(lines.length, CRASH_TAIL_LINES);
      assert.equal(lines.at(-1), 'line 100');
      assert.equal(lines[0], `line ${100 - CRASH_TAIL_LINES + 1}`);
      assert.deepEqual(await readdir(crashDir), ['worker-crash-1.log']);
      const text = await readFile(crash.file, 'utf8');
      assert.match(text, /exited on its own .*code 3, signal null/);
      assert.ok(text.trimEnd().endsWith('line 100'));
      await assert.rejects(
        w.assertAlive(),
        (e: Error) => e.message.includes(crash.file) && /code 3/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not count a worker the rig stopped (a fault, the end of the run) as a crash', async () => {
    const { w, dir, crashDir } = await workersIn(standIn(3, 'wait'));
    try {
      const child = w.start();
      await w.stop(child, 'SIGKILL');
      assert.deepEqual(await w.crashed(), []);
      await w.assertAlive();
      await assert.rejects(readdir(crashDir), { code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('counts progress lines rewritten with \\r as lines of their own', () => {
    assert.equal(tailLines('a\rb\rc\nd\n\n', 2), 'c\nd');
  });
});
