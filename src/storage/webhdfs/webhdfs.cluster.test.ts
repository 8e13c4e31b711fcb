// The WebHDFS store on a real HDFS (NameNode + 2 DataNodes from `lakestream cluster up --hdfs`):
// the shared ObjectStore suite, racing committers in two processes, permissions, half-written objects.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureCluster, type TestCluster } from '../../../test/helpers/cluster.ts';
import { isLakestreamError } from '../../errors.ts';
import { runObjectStoreSuite } from '../conformance.ts';
import { openWebHdfs, type PutIfAbsentMode, type WebHdfsStore } from './index.ts';

let cluster: Promise<TestCluster> | undefined;
const RUN = `/lakestream-tests/webhdfs-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
let next = 0;

/** A store in a directory of its own, as the cluster's superuser unless `user` is given. */
async function freshStore(
  opts: { user?: string; dir?: string; mode?: PutIfAbsentMode } = {},
): Promise<WebHdfsStore> {
  cluster ??= ensureCluster({ hdfs: true });
  const c = await cluster;
  const dir = opts.dir ?? `${RUN}/${next++}`;
  const q = new URLSearchParams({ user: opts.user ?? c.hdfsUser, putIfAbsent: opts.mode ?? 'rename' });
  return openWebHdfs(`${c.webhdfsUrl}${dir}?${q}`);
}

runObjectStoreSuite('webhdfs', () => freshStore());

const enc = (s: string) => new TextEncoder().encode(s);

/** Runs test/hdfs/committer.ts: a process that tries to commit each of `versions` Delta versions. */
function committer(
  url: string,
  id: string,
  versions: number,
  startAt: number,
): Promise<{ id: string; won: number[]; lost: number[] }> {
  const script = join(import.meta.dirname, '../../../test/hdfs/committer.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, url, id, String(versions), String(startAt), '150'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => {
      out += b;
    });
    child.stderr.on('data', (b) => {
      err += b;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`committer ${id} exited ${code}: ${err}`)),
    );
  });
}

describe('WebHDFS store on a real HDFS', () => {
  for (const mode of ['rename', 'create'] as const) {
    it(`two committer processes never both win the same log version (putIfAbsent by ${mode})`, async () => {
      const store = await freshStore({ mode });
      const versions = 16;
      // both fire their attempt at each version at the same moment, once Node has loaded
      const startAt = Date.now() + 2000;
      const [a, b] = await Promise.all([
        committer(store.url, 'a', versions, startAt),
        committer(store.url, 'b', versions, startAt),
      ]);
      const all = [...a.won, ...b.won].sort((x, y) => x - y);
      assert.deepEqual(
        all,
        Array.from({ length: versions }, (_, i) => i),
        'every version has exactly one winner',
      );
      assert.deepEqual(a.lost, b.won, 'a lost exactly the versions b won');
      const log = await store.list('_delta_log/');
      assert.equal(log.length, versions);
      for (const { id, won } of [a, b])
        for (const v of won) {
          const commit = JSON.parse(new TextDecoder().decode(await store.get(log[v].path)));
          assert.equal(commit.commitInfo.writer, id, `version ${v} holds the bytes of its winner`);
        }
      await store.close();
    });
  }

  it('lists a directory longer than one LISTSTATUS_BATCH page (dfs.ls.limit, 1,000) whole and in order', {
    timeout: 180_000,
  }, async () => {
    const store = await freshStore();
    const n = 1203; // a Delta log after 1,200 commits holds as many entries
    const names = Array.from({ length: n }, (_, i) => `_delta_log/${String(i).padStart(20, '0')}.json`);
    for (let i = 0; i < n; i += 32)
      await Promise.all(names.slice(i, i + 32).map((p) => store.put(p, enc(p))));
    const listed = await store.list('_delta_log/');
    assert.equal(listed.length, n);
    assert.deepEqual(
      listed.map((o) => o.path),
      names,
    );
    await store.close();
  });

  it('refuses a user without access with PERMISSION naming the path and the user', async () => {
    const admin = await freshStore();
    await admin.put('private/secret.json', enc('{}'));
    await admin.client.setOwner(admin.abs('private'), 'alice');
    await admin.client.setPermission(admin.abs('private'), '700');
    const bob = await freshStore({ user: 'bob', dir: admin.root });
    const refused = (e: unknown) =>
      isLakestreamError(e, 'PERMISSION') &&
      !e.retriable &&
      e.message.includes('user "bob"') &&
      e.message.includes(admin.abs('private'));
    await assert.rejects(bob.get('private/secret.json'), refused);
    await assert.rejects(bob.put('private/other.json', enc('{}')), refused);
    await assert.rejects(bob.list('private/'), refused);
    const alice = await freshStore({ user: 'alice', dir: admin.root });
    assert.equal(new TextDecoder().decode(await alice.get('private/secret.json')), '{}');
    for (const s of [admin, bob, alice]) await s.close();
  });

  it('never shows a reader a half-written object', async () => {
    const store = await freshStore();
    const size = 24 * 1024 * 1024;
    const big = new Uint8Array(size).map((_, i) => i % 251);
    await store.put('t/part-0.parquet', enc('old'));
    let done = false;
    const writing = store.put('t/part-0.parquet', big).finally(() => {
      done = true;
    });
    const seen = new Set<number>();
    while (!done) {
      const [info, listed] = await Promise.all([store.stat('t/part-0.parquet'), store.list('t/')]);
      seen.add(info?.size ?? -1);
      for (const o of listed) seen.add(o.size);
    }
    await writing;
    for (const s of seen) assert.ok(s === 3 || s === size, `a reader saw ${s} bytes`);
    assert.deepEqual(await store.get('t/part-0.parquet'), big);
    const names = (await store.client.listStatus(store.abs('t')))?.map((e) => e.pathSuffix);
    assert.deepEqual(names, ['part-0.parquet'], 'no temp file is left behind');
    await store.close();
  });
});
