// Issue 7: safe by default — loopback unless --host says otherwise, and then a token on every request.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLakestreamError } from '../../src/errors.ts';
import { startServer } from '../../src/serve/server.ts';
import { runCli, startCli } from '../helpers/cli.ts';

const TOKEN = 'correct-horse-battery-staple';

async function emptyLake(): Promise<string> {
  return `file:${await mkdtemp(join(tmpdir(), 'lakestream-serve-auth-'))}`;
}

describe('binding and tokens', () => {
  it('refuses to start on a non-loopback host without a token', async () => {
    await assert.rejects(
      startServer({ port: 0, host: '0.0.0.0', lake: await emptyLake(), log: () => {} }),
      (e) =>
        isLakestreamError(e, 'BAD_ARGUMENT') &&
        /without a token/.test(e.message) &&
        /LAKESTREAM_TOKEN/.test(e.message),
    );
  });

  it('says so on the command line and exits with a usage error', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--lake', await emptyLake()], {
      env: { LAKESTREAM_TOKEN: '' },
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
  });

  it('refuses a token too short to be one', async () => {
    await assert.rejects(
      startServer({ port: 0, host: '0.0.0.0', token: 'abc', lake: await emptyLake(), log: () => {} }),
      /at least 8/,
    );
  });

  describe('a server on 0.0.0.0 with a token', () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    let base: string;
    before(async () => {
      server = await startServer({
        port: 0,
        host: '0.0.0.0',
        token: TOKEN,
        lake: await emptyLake(),
        log: () => {},
      });
      base = `http://127.0.0.1:${new URL(server.url).port}`;
    });
    after(() => server?.close());

    it('answers every page, asset, API and metrics request without the token with 401', async () => {
      for (const path of [
        '/',
        '/assets/app.js',
        '/api/meters',
        '/api/tables',
        '/metrics',
        '/api/pipeline/stream',
      ]) {
        const res = await fetch(base + path, { redirect: 'manual' });
        assert.equal(res.status, 401, path);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="lakestream"');
        await res.body?.cancel();
      }
      const post = await fetch(`${base}/api/sql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"sql":"SELECT 1"}',
      });
      assert.equal(post.status, 401);
      await post.body?.cancel();
    });

    it('answers 401 to a wrong token', async () => {
      const res = await fetch(`${base}/api/meters`, {
        headers: { Authorization: 'Bearer correct-horse-battery-stapler' },
      });
      assert.equal(res.status, 401);
      await res.body?.cancel();
    });

    it('serves requests with the token as a bearer header', async () => {
      const res = await fetch(`${base}/api/meters`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { total: 0, meters: [] });
    });

    it('turns ?token= into an HttpOnly same-site cookie and a redirect that drops it from the URL', async () => {
      const res = await fetch(`${base}/?token=${TOKEN}&x=1`, { redirect: 'manual' });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/?x=1');
      const cookie = res.headers.get('set-cookie') ?? '';
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      const page = await fetch(`${base}/`, { headers: { Cookie: cookie.split(';')[0] } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /lakestream/);
    });
  });

  it('takes the token from LAKESTREAM_TOKEN on the command line', async () => {
    const child = startCli(
      [
        'serve',
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--lake',
        await emptyLake(),
        '--transport',
        'embedded:/nonexistent-lakestream',
      ],
      {
        LAKESTREAM_TOKEN: TOKEN,
      },
    );
    try {
      let err = '';
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${err}`)), 60_000);
        child.stderr?.on('data', (d) => {
          err += d;
          const m = /dashboard at http:\/\/[^:]+:(\d+)\//.exec(err);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        child.on('exit', () => reject(new Error(`serve exited:\n${err}`)));
      });
      assert.match(err, /token required/);
      const denied = await fetch(`http://127.0.0.1:${port}/api/meters`);
      assert.equal(denied.status, 401);
      await denied.body?.cancel();
      const ok = await fetch(`http://127.0.0.1:${port}/api/meters`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    } finally {
      child.kill('SIGTERM');
    }
  });
});
