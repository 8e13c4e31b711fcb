import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLakestreamError } from '../errors.ts';
import { alivePid, logFile, pidFile, startDaemon, stopNode, waitUntil } from './processes.ts';

// Java's source launcher runs a one-file program: a stand-in daemon without any jar.
const SLEEPER = `public class Sleeper { public static void main(String[] a) throws Exception {
  System.out.println("sleeper up"); Thread.sleep(600_000); } }`;
const CRASHER = `public class Crasher { public static void main(String[] a) {
  System.err.println("boom: port already in use"); System.exit(3); } }`;

describe('cluster processes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lakestream-proc-'));
    await writeFile(join(dir, 'Sleeper.java'), SLEEPER);
    await writeFile(join(dir, 'Crasher.java'), CRASHER);
  });
  after(async () => {
    await stopNode(dir, 'broker-1', { signal: 'SIGKILL' });
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a detached daemon with a pid file and a log, and stops it by its pid', async () => {
    const pid = await startDaemon({
      dir,
      node: 'broker-1',
      classpath: dir,
      mainClass: join(dir, 'Sleeper.java'),
      args: [],
      jvm: ['-Xmx64m'],
    });
    assert.equal(Number(readFileSync(pidFile(dir, 'broker-1'), 'utf8')), pid);
    assert.equal(alivePid(dir, 'broker-1'), pid);
    await waitUntil(
      'the sleeper to log',
      async () => readFileSync(logFile(dir, 'broker-1'), 'utf8').includes('sleeper up'),
      {
        timeoutMs: 60_000,
        dir,
        node: 'broker-1',
      },
    );
    assert.equal(await stopNode(dir, 'broker-1'), true);
    assert.equal(alivePid(dir, 'broker-1'), undefined);
    assert.equal(existsSync(pidFile(dir, 'broker-1')), false);
    assert.throws(() => process.kill(pid, 0));
  });

  it('never signals a process that is not the node its pid file names', async () => {
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await mkdir(join(dir, 'run'), { recursive: true });
      await writeFile(pidFile(dir, 'datanode-1'), `${stranger.pid}\n`);
      assert.equal(alivePid(dir, 'datanode-1'), undefined);
      assert.equal(await stopNode(dir, 'datanode-1'), false);
      assert.doesNotThrow(() => process.kill(stranger.pid!, 0), 'the stranger still runs');
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('stops waiting as soon as the node exits, quoting its log', async () => {
    await startDaemon({
      dir,
      node: 'namenode',
      classpath: dir,
      mainClass: join(dir, 'Crasher.java'),
      args: [],
      jvm: ['-Xmx64m'],
    });
    await assert.rejects(
      waitUntil('the NameNode to listen', async () => false, { timeoutMs: 60_000, dir, node: 'namenode' }),
      (e) =>
        isLakestreamError(e, 'UNAVAILABLE') &&
        e.message.includes('boom: port already in use') &&
        e.message.includes('namenode.log'),
    );
  });
});
