// Issue 16 item 3: the lake's storage fills up mid-stream. The worker stops committing and says why
// (status), resumes once space returns, and the lake ends with every reading once.

import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lake } from '../../src/lake/index.ts';
import { cli, type freshEngines, type startCli } from '../helpers/cli.ts';
import { produceTwoDays, streamOnStoreThatFills, until, workerStatuses } from '../helpers/pipeline.ts';

const produce = produceTwoDays;

describe('a stream whose lake storage fills up', () => {
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let flag: string;
  let statusWhileFull = '';
  const versionsWhileFull: number[] = [];
  let stream: ReturnType<typeof startCli>;
  let lake: Lake;

  before(async () => {
    ({ engines, flag, stream } = await streamOnStoreThatFills());
    await writeFile(flag, '');
    await produce(engines.produceFlags, '2013-01-09');
    await until('the worker to report that it is blocked', async () =>
      (await workerStatuses(join(engines.dir, 'lake'))).some((w) => w.blocked !== null),
    );
    const bronzeVersion = async () => {
      const l = await Lake.open(engines.lake);
      try {
        return (await l.table('meters/bronze/readings').snapshot()).version;
      } finally {
        await l.close();
      }
    };
    versionsWhileFull.push(await bronzeVersion());
    statusWhileFull = (await cli(['status', ...engines.flags])).stdout;
    await sleep(3000);
    versionsWhileFull.push(await bronzeVersion());
    await rm(flag);
    await until('the worker to catch up', async () => {
      const ws = await workerStatuses(join(engines.dir, 'lake'));
      return ws.some((w) => w.blocked === null && Number(w.read) >= 20 * 48 * 4);
    });
    stream.kill('SIGINT');
    await new Promise((r) => stream.once('close', r));
    await cli(['stream', '--drain', '--quiet', '--retrain', 'off', ...engines.flags]);
    lake = await Lake.open(engines.lake);
  });
  after(async () => {
    stream?.kill('SIGKILL');
    await lake?.close();
  });

  it('stops committing while the storage is full, and status says why', () => {
    assert.equal(versionsWhileFull[0], versionsWhileFull[1], 'no bronze commit while full');
    assert.match(statusWhileFull, /NOT COMMITTING since .*storage full \(ENOSPC\)/);
  });

  it('resumes once space returns, with every reading in bronze exactly once', async () => {
    const r = await lake.query(
      'SELECT count(*)::BIGINT AS n, count(DISTINCT (meter_id, ts))::BIGINT AS d FROM meters_bronze_readings',
    );
    assert.equal(Number(r.rows[0].n), Number(r.rows[0].d), 'no duplicated reading');
    assert.equal(Number(r.rows[0].n), 20 * 48 * 4, 'no lost reading');
  });
});
