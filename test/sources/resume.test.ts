// Issue 16 item 2: a producer SIGKILLed mid-run and restarted with the same command resumes after its
// acknowledged readings; only the unacknowledged send in flight goes out twice, and bronze holds each once.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lake } from '../../src/lake/index.ts';
import { openTransport } from '../../src/transport/open.ts';
import { cli, freshEngines, ROOT, runCli, startCli } from '../helpers/cli.ts';

const METERS = 100;
const DAYS = 2;
const TOTAL = METERS * DAYS * 48;
const RATE = 2000;
/** the producer sends RATE / 20 messages at a time: the most a kill can leave unacknowledged */
const CHUNK = RATE / 20;

async function acknowledgedIn(file: string): Promise<number> {
  try {
    return JSON.parse(await readFile(file, 'utf8')).acknowledged;
  } catch {
    return 0;
  }
}

async function topicSize(url: string): Promise<number> {
  const t = await openTransport(url);
  try {
    return (await t.endOffsets('meters.readings')).reduce((s, e) => s + e.offset, 0);
  } finally {
    await t.close();
  }
}

describe('a producer killed with SIGKILL and restarted with the same command', () => {
  let engines: Awaited<ReturnType<typeof freshEngines>>;
  let positionFile: string;
  let atKill = { acknowledged: 0, inTopic: 0 };
  let second = '';
  let finalInTopic = 0;
  let lake: Lake;

  before(async () => {
    engines = await freshEngines();
    positionFile = join(engines.dir, 'producer.position.json');
    const args = [
      'produce',
      '--source',
      'simulate',
      '--meters',
      String(METERS),
      '--days',
      String(DAYS),
      '--rate',
      String(RATE),
      '--position',
      positionFile,
      ...engines.produceFlags,
    ];
    const child = startCli(args);
    const deadline = Date.now() + 60_000;
    while ((await acknowledgedIn(positionFile)) < TOTAL / 3 && Date.now() < deadline) await sleep(50);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    atKill = {
      acknowledged: await acknowledgedIn(positionFile),
      inTopic: await topicSize(engines.transport),
    };
    second = (await cli(args)).stderr;
    finalInTopic = await topicSize(engines.transport);
    await cli(['stream', '--drain', '--quiet', ...engines.flags]);
    lake = await Lake.open(engines.lake);
  });
  after(async () => lake?.close());

  it('was killed mid-run, with part of the readings acknowledged and recorded in its position file', () => {
    assert.ok(atKill.acknowledged >= TOTAL / 3 && atKill.acknowledged < TOTAL, JSON.stringify(atKill));
    assert.ok(atKill.inTopic >= atKill.acknowledged, 'every acknowledged reading is in the topic');
  });

  it('resumes after the acknowledged readings and sends the rest', () => {
    assert.match(second, new RegExp(`resumed after ${atKill.acknowledged.toLocaleString('en-US')} messages`));
    const sent = Number(/done: ([\d,]+) messages/.exec(second)?.[1].replaceAll(',', ''));
    assert.equal(sent, TOTAL - atKill.acknowledged);
  });

  it('sends again at most the unacknowledged send in flight at the kill', () => {
    const resent = finalInTopic - TOTAL;
    assert.equal(resent, atKill.inTopic - atKill.acknowledged);
    assert.ok(resent >= 0 && resent <= CHUNK, `re-sent ${resent}`);
  });

  it('deletes its position once the run reaches its end, so a rerun starts over', () => {
    assert.equal(existsSync(positionFile), false);
  });

  it('leaves every reading in bronze exactly once', async () => {
    const r = await lake.query(
      'SELECT count(*)::BIGINT AS n, count(DISTINCT (meter_id, ts))::BIGINT AS d, count(DISTINCT meter_id)::BIGINT AS m FROM meters_bronze_readings',
    );
    assert.deepEqual(
      { rows: Number(r.rows[0].n), distinct: Number(r.rows[0].d), meters: Number(r.rows[0].m) },
      { rows: TOTAL, distinct: TOTAL, meters: METERS },
    );
  });

  it('keeps the position under .lakestream/producer/ when no --position is given', async () => {
    const own = await freshEngines();
    const args = [
      ...'produce --source simulate --meters 50 --days 1 --rate 1000'.split(' '),
      ...own.produceFlags,
    ];
    const child = startCli(args);
    const dir = join(ROOT, '.lakestream', 'producer');
    const mine = async () => {
      for (const f of await readdir(dir).catch(() => [] as string[]))
        if (f.endsWith('.json') && (await readFile(join(dir, f), 'utf8')).includes(own.transport))
          return join(dir, f);
      return undefined;
    };
    const deadline = Date.now() + 30_000;
    let file = await mine();
    while (!file && Date.now() < deadline) {
      await sleep(50);
      file = await mine();
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    assert.ok(file, 'a position file of this command');
    const acknowledged = await acknowledgedIn(file);
    const rerun = (await cli(args)).stderr;
    assert.match(rerun, new RegExp(`resumed after ${acknowledged.toLocaleString('en-US')} messages`));
    assert.equal(existsSync(file), false, 'deleted at the end');
  });

  it('refuses a position file that another command wrote', async () => {
    const other = join(engines.dir, 'other.position.json');
    await writeFile(other, JSON.stringify({ v: 1, command: '{"source":"water"}', acknowledged: 5 }));
    const r = await runCli([
      ...'produce --source simulate --meters 2 --days 1 --position'.split(' '),
      other,
      ...engines.produceFlags,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /belongs to another produce command/);
  });
});
