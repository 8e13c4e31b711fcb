import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { isLakestreamError } from '../../errors.ts';
import { runTransportSuite } from '../suite.ts';
import type { Consumer, Message } from '../transport.ts';
import { DB_FILE } from './sqlite.ts';
import { EmbeddedTransport } from './transport.ts';

const shared = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
runTransportSuite('embedded', async () => new EmbeddedTransport(shared));

const CHILD = join(import.meta.dirname, 'test-child.ts');
const enc = (s: string) => new TextEncoder().encode(s);

interface ChildEvent {
  event: 'sent' | 'assign' | 'revoke' | 'message' | 'done';
  partitions?: number[];
  partition?: number;
  offset?: number;
}

/** A test-child.ts process and the JSON events it printed so far. */
function child(...args: string[]) {
  const proc: ChildProcess = spawn(process.execPath, [CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const events: ChildEvent[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => events.push(JSON.parse(line)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const owned = () => {
    const mine = new Set<number>();
    for (const e of events) {
      if (e.event === 'assign') for (const p of e.partitions!) mine.add(p);
      if (e.event === 'revoke') for (const p of e.partitions!) mine.delete(p);
    }
    return [...mine].sort();
  };
  return { proc, events, exited, owned };
}

async function waitFor(
  what: string,
  until: () => boolean | Promise<boolean>,
  ms = 20_000,
  step = () => sleep(20),
) {
  const deadline = Date.now() + ms;
  while (!(await until())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await step();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('embedded log', { timeout: 120_000 }, () => {
  const open: EmbeddedTransport[] = [];
  const children: ChildProcess[] = [];
  const transport = (dir: string, sessionTimeoutMs?: number) => {
    const t = new EmbeddedTransport(dir, { sessionTimeoutMs });
    open.push(t);
    return t;
  };
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const t of open) await t.close();
  });

  it('keeps what a producer process sent even when that process is killed right after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
    await transport(dir).ensureTopic('readings', 2);
    const producer = child('produce', dir, 'readings', '1000');
    children.push(producer.proc);
    const { signal } = await producer.exited;
    assert.equal(signal, 'SIGKILL');
    assert.deepEqual(producer.events, [{ event: 'sent', n: 1000 }]);
    const t = transport(dir);
    const c = await t.consumer({ group: 'after-restart', topics: ['readings'] });
    const got: Message[] = [];
    await waitFor('1000 messages', async () => got.push(...(await c.poll(1000, 100))) >= 1000);
    const keys = new Set(got.map((m) => m.key));
    assert.equal(keys.size, 1000);
    for (let i = 0; i < 1000; i++) assert.ok(keys.has(`meter-${i}`));
  });

  it('interleaves two producer processes writing one partition without losing or reordering', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
    await transport(dir).ensureTopic('readings', 1);
    const producers = [
      child('produce', dir, 'readings', '3000', 'left'),
      child('produce', dir, 'readings', '3000', 'right'),
    ];
    children.push(...producers.map((p) => p.proc));
    await Promise.all(producers.map((p) => p.exited));
    const c = await transport(dir).consumer({ group: 'check', topics: ['readings'] });
    const got: Message[] = [];
    await waitFor('6000 messages', async () => got.push(...(await c.poll(5000, 100))) >= 6000);
    assert.deepEqual(
      got.map((m) => m.offset),
      Array.from({ length: 6000 }, (_, i) => i),
      'offsets are contiguous',
    );
    for (const prefix of ['left', 'right']) {
      const mine = got
        .filter((m) => m.key!.startsWith(`${prefix}-`))
        .map((m) => new TextDecoder().decode(m.value));
      assert.deepEqual(
        mine,
        Array.from({ length: 3000 }, (_, i) => `${prefix} ${i}`),
        `${prefix}'s messages in send order`,
      );
    }
  });

  it('splits a topic between two consumer processes of one group, each message read once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
    const t = transport(dir);
    await t.ensureTopic('readings', 4);
    const a = child('consume', dir, 'readings', 'workers', '400');
    const b = child('consume', dir, 'readings', 'workers', '400');
    children.push(a.proc, b.proc);
    await waitFor('both processes to own partitions', () => {
      const [pa, pb] = [a.owned(), b.owned()];
      return (
        pa.length > 0 && pb.length > 0 && new Set([...pa, ...pb]).size === 4 && pa.length + pb.length === 4
      );
    });
    const p = await t.producer();
    await p.send(
      'readings',
      Array.from({ length: 400 }, (_, i) => ({ key: `meter-${i}`, value: enc(String(i)) })),
    );
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    assert.deepEqual([ea.code, eb.code], [0, 0]);
    const read = (events: ChildEvent[]) =>
      events.filter((e) => e.event === 'message').map((e) => `${e.partition}@${e.offset}`);
    const [ra, rb] = [read(a.events), read(b.events)];
    assert.ok(ra.length > 0 && rb.length > 0, `a read ${ra.length}, b read ${rb.length}`);
    const all = [...ra, ...rb];
    assert.equal(new Set(all).size, all.length, 'no message was read twice');
    assert.equal(all.length, 400);
  });

  it("gives a killed member's partitions to the survivor once its session times out", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
    const t = transport(dir); // default session timeout: 3 s
    await t.ensureTopic('readings', 4);
    const victim = child('consume', dir, 'readings', 'workers', String(Number.MAX_SAFE_INTEGER));
    children.push(victim.proc);
    const assigned: number[] = [];
    const survivor = await t.consumer({
      group: 'workers',
      topics: ['readings'],
      onAssign: (ps) => void assigned.push(...ps.map((x) => x.partition)),
    });
    const poll = async () => void (await survivor.poll(100, 50));
    await waitFor(
      'both members to own partitions',
      () =>
        victim.owned().length > 0 &&
        survivor.assignment().length > 0 &&
        victim.owned().length + survivor.assignment().length === 4,
      20_000,
      poll,
    );
    const victimHad = victim.owned();
    victim.proc.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    await waitFor(
      'the survivor to own every partition',
      () => survivor.assignment().length === 4,
      20_000,
      poll,
    );
    const took = Date.now() - killedAt;
    assert.ok(took >= 1500 && took < 8000, `takeover took ${took} ms`);
    for (const p of victimHad) assert.ok(assigned.includes(p), `onAssign reported partition ${p}`);
    const p = await t.producer();
    await p.send(
      'readings',
      Array.from({ length: 100 }, (_, i) => ({ key: `meter-${i}`, value: enc(String(i)) })),
    );
    const got: Message[] = [];
    await waitFor('100 messages', async () => got.push(...(await survivor.poll(100, 100))) >= 100);
    assert.deepEqual(new Set(got.map((m) => m.partition)), new Set([0, 1, 2, 3]));
  });

  it('lets a member busy for longer than the session timeout keep its partitions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
    const t = transport(dir); // default session timeout: 3 s
    await t.ensureTopic('readings', 4);
    const other = child('consume', dir, 'readings', 'workers', String(Number.MAX_SAFE_INTEGER));
    children.push(other.proc);
    const revoked: number[] = [];
    const busy = await t.consumer({
      group: 'workers',
      topics: ['readings'],
      onRevoke: (ps) => void revoked.push(...ps.map((x) => x.partition)),
    });
    const poll = async () => void (await busy.poll(100, 50));
    await waitFor(
      'both members to own partitions',
      () => other.owned().length === 2 && busy.assignment().length === 2,
      20_000,
      poll,
    );
    const had = busy.assignment();
    const otherHad = other.owned();
    revoked.length = 0;
    // Block this thread (a long synchronous batch): only the heartbeat thread keeps the member alive.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4500);
    for (let i = 0; i < 5; i++) await poll();
    assert.deepEqual(busy.assignment(), had);
    assert.deepEqual(revoked, [], 'nothing was taken from the busy member');
    assert.deepEqual(other.owned(), otherHad);
  });

  it('refuses a commit for a partition another member owns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
    const t = transport(dir);
    await t.ensureTopic('readings', 2);
    const a = await t.consumer({ group: 'g', topics: ['readings'] });
    const b = await transport(dir).consumer({ group: 'g', topics: ['readings'] });
    const both: Consumer[] = [a, b];
    await waitFor(
      'each member to own one partition',
      () => a.assignment().length === 1 && b.assignment().length === 1,
      20_000,
      async () => void (await Promise.all(both.map((c) => c.poll(10, 20)))),
    );
    const theirs = b.assignment()[0];
    await assert.rejects(
      a.commit([{ ...theirs, offset: 5 }]),
      (e) => isLakestreamError(e, 'CONFLICT') && e.message.includes(`readings/${theirs.partition}`),
    );
    assert.throws(
      () => a.seek({ ...theirs, offset: 0 }),
      (e) => isLakestreamError(e, 'BAD_ARGUMENT'),
    );
    await b.commit([{ ...theirs, offset: 0 }]);
    assert.deepEqual(await t.committedOffsets('g', 'readings'), [{ ...theirs, offset: 0 }]);
  });

  it('fails clearly when used after close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
    const t = new EmbeddedTransport(dir);
    await t.ensureTopic('readings', 1);
    const p = await t.producer();
    const c = await t.consumer({ group: 'g', topics: ['readings'] });
    await t.close();
    const closed = (e: unknown) => isLakestreamError(e, 'BAD_ARGUMENT') && /closed/.test(e.message);
    await assert.rejects(p.send('readings', [{ key: 'k', value: enc('x') }]), closed);
    await assert.rejects(c.poll(1, 10), closed);
    await assert.rejects(t.endOffsets('readings'), closed);
  });

  it('truncates only what every group has committed past', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
    const t = transport(dir);
    await t.ensureTopic('readings', 1);
    const p = await t.producer();
    for (let s = 0; s < 3; s++)
      await p.send(
        'readings',
        Array.from({ length: 1000 }, (_, i) => ({ key: 'one-meter', value: enc(String(s * 1000 + i)) })),
      );
    assert.equal(await t.truncate(), 0, 'nothing is deleted before any group commits');
    const commitAt = async (group: string, offset: number) => {
      const c = await t.consumer({ group, topics: ['readings'] });
      await waitFor(
        `${group} to own the partition`,
        () => c.assignment().length === 1,
        20_000,
        async () => void (await c.poll(1, 20)),
      );
      await c.commit([{ topic: 'readings', partition: 0, offset }]);
      await c.close();
    };
    await commitAt('fast', 2500);
    await commitAt('slow', 1200);
    assert.equal(await t.truncate(), 1000, 'the first stored batch, below both groups');
    assert.deepEqual(await t.endOffsets('readings'), [{ topic: 'readings', partition: 0, offset: 3000 }]);
    const slow = await t.consumer({ group: 'slow', topics: ['readings'] });
    const first = await slow.poll(1, 5000);
    assert.equal(first[0].offset, 1200);
    assert.equal(new TextDecoder().decode(first[0].value), '1200');
    await slow.close();
    const fresh = await t.consumer({ group: 'new', topics: ['readings'] });
    assert.equal(
      (await fresh.poll(1, 5000))[0].offset,
      1000,
      'a new group starts at the oldest kept message',
    );
    await fresh.close();
    const sizeBefore = statSync(join(dir, DB_FILE)).size;
    await commitAt('slow', 3000);
    await commitAt('fast', 3000);
    assert.equal(await t.truncate(), 2000);
    const sizeAfter = statSync(join(dir, DB_FILE)).size;
    assert.ok(sizeAfter < sizeBefore, `the file shrank from ${sizeBefore} to ${sizeAfter} bytes`);
  });
});
