// `lakestream produce` and the produce() library call, through the real embedded transport.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeReading } from '../../src/domain/meters/reading.ts';
import { produce } from '../../src/sources/produce.ts';
import type { Message, Transport } from '../../src/transport/index.ts';
import { openTransport } from '../../src/transport/index.ts';
import { cli, DATA, runCli, startCli } from '../helpers/cli.ts';

async function fresh(): Promise<{ url: string; transport: Transport; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-produce-'));
  const url = `embedded:${join(dir, 'log')}`;
  return { url, transport: await openTransport(url), dir };
}

async function readAll(t: Transport, topic: string): Promise<Message[]> {
  const ends = await t.endOffsets(topic);
  const total = ends.reduce((s, e) => s + e.offset, 0);
  const c = await t.consumer({ group: `check-${Math.random()}`, topics: [topic] });
  const out: Message[] = [];
  try {
    while (out.length < total) {
      const ms = await c.poll(10_000, 2000);
      if (ms.length === 0) break;
      out.push(...ms);
    }
  } finally {
    await c.close();
  }
  return out;
}

describe('produce', () => {
  it('sends a simulated fleet keyed by meter; every message is a valid reading', async () => {
    const { transport } = await fresh();
    try {
      const progress: number[] = [];
      const s = await produce(
        { source: 'simulate', meters: 25, days: 2, start: '2013-02-01', progressEveryMs: 10 },
        transport,
        (p) => progress.push(p.sent),
      );
      assert.equal(s.sent, 25 * 96);
      assert.equal(s.stopped, false);
      const ms = await readAll(transport, 'meters.readings');
      assert.equal(ms.length, 25 * 96);
      for (const m of ms) {
        const r = decodeReading(m.value);
        assert.ok(r.ok, JSON.stringify(r));
        assert.equal(m.key, r.reading.meter_id);
      }
      assert.equal(progress.at(-1), 25 * 96);
    } finally {
      await transport.close();
    }
  });

  it('paces by rate: about 1000 messages in one second at --rate 1000', async () => {
    const { transport } = await fresh();
    try {
      const s = await produce(
        { source: 'simulate', meters: 1000, days: 1, rate: 1000, signal: AbortSignal.timeout(1000) },
        transport,
      );
      assert.equal(s.stopped, true);
      assert.ok(s.sent >= 800 && s.sent <= 1200, `sent ${s.sent} in 1 s`);
    } finally {
      await transport.close();
    }
  });

  it('paces by event time: one simulated day per second at --speed 86400', async () => {
    const { transport } = await fresh();
    try {
      const t0 = performance.now();
      const s = await produce(
        { source: 'simulate', meters: 5, days: 2, start: '2013-02-01', speed: 86_400 },
        transport,
      );
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(s.sent, 5 * 96);
      // the last reading starts at 23:30 of day 2: 1.98 days of event time after the first
      assert.ok(seconds > 1.8 && seconds < 3.5, `took ${seconds} s`);
    } finally {
      await transport.close();
    }
  });

  it('stops after --limit messages', async () => {
    const { transport } = await fresh();
    try {
      const s = await produce(
        {
          source: 'uci-hourly',
          files: [join(DATA, 'meters/uci/household_power_hourly.csv.gz')],
          limit: 1234,
        },
        transport,
      );
      assert.equal(s.sent, 1234);
      assert.equal(s.stopped, true);
      assert.equal((await readAll(transport, 'meters.readings')).length, 1234);
    } finally {
      await transport.close();
    }
  });

  it('replays a bad London file from the command line: every row sent, unparsed ones counted in the summary', async () => {
    const { url, dir, transport } = await fresh();
    await transport.close();
    const file = join(dir, 'bad.csv');
    await writeFile(
      file,
      'LCLid,tstp,energy_kwh_hh\nMAC1,2013-01-01 00:00:00,0.5\nMAC1,2013-01-01 00:30:00,Null\nMAC1,oops,0.1\nMAC1,2013-01-01 01:00:00,0.25\n',
    );
    const r = await cli(['produce', '--source', 'london-halfhourly', '--file', file, '--transport', url]);
    assert.match(r.stderr, /done: 4 messages to meters\.readings/);
    assert.match(r.stderr, /2 unparsed rows sent for quarantine/);
    const t = await openTransport(url);
    try {
      const reasons = (await readAll(t, 'meters.readings')).map((m) => {
        const d = decodeReading(m.value);
        return d.ok ? 'ok' : `${d.reason} ${d.src}`;
      });
      assert.deepEqual(reasons.sort(), ['ok', 'ok', 'unparsed-row bad.csv:3', 'unparsed-row bad.csv:4']);
    } finally {
      await t.close();
    }
  });

  it('stops on Ctrl-C after the batch in flight is acknowledged, and says how many it sent', async () => {
    const { url, transport } = await fresh();
    await transport.close();
    const child = startCli([
      'produce',
      '--source',
      'simulate',
      '--meters',
      '100',
      '--rate',
      '400',
      '--transport',
      url,
    ]);
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    // Ctrl-C once readings are flowing (a fixed wait raced the CLI's start on a loaded machine)
    for (let t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 200))) {
      const t = await openTransport(url);
      const n = await t
        .endOffsets('meters.readings')
        .then((ends) => ends.reduce((sum, e) => sum + e.offset, 0))
        .catch(() => 0) // no topic yet
        .finally(() => t.close());
      if (n > 0) break;
      assert.ok(Date.now() - t0 < 60_000, `no reading sent within 60 s\n${stderr}`);
    }
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 130);
    const sent = Number(/stopped: ([\d,]+) messages/.exec(stderr)?.[1].replaceAll(',', ''));
    assert.ok(sent > 0 && sent < 144_000, stderr);
    const t = await openTransport(url);
    try {
      assert.equal((await readAll(t, 'meters.readings')).length, sent);
    } finally {
      await t.close();
    }
  });

  it('explains itself: --help, a missing --file, an unknown source, a missing file', async () => {
    const help = await cli(['produce', '--help']);
    assert.match(help.stdout, /--source NAME/);
    assert.match(help.stdout, /--speed X/);
    const noFile = await runCli(['produce', '--source', 'london-halfhourly']);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /--source london-halfhourly needs --file PATH/);
    const unknown = await runCli(['produce', '--source', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /--source must be one of london-halfhourly, uci-hourly, water, simulate, google-2011, jsonl/,
    );
    const { url, transport } = await fresh();
    await transport.close();
    const missing = await runCli([
      'produce',
      '--source',
      'water',
      '--file',
      '/nonexistent/x.zip',
      '--transport',
      url,
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /file not found: \/nonexistent\/x\.zip/);
  });

  it('learns a profile from the command line and simulates from it', async () => {
    const { url, dir, transport } = await fresh();
    await transport.close();
    const profile = join(dir, 'uci-profile.json');
    await cli(['profile', 'learn', join(DATA, 'meters/uci/household_power_hourly.csv.gz'), '--out', profile]);
    const r = await cli([
      'produce',
      '--source',
      'simulate',
      '--profile',
      profile,
      '--meters',
      '3',
      '--days',
      '1',
      '--interval',
      '60',
      '--transport',
      url,
    ]);
    assert.match(r.stderr, /done: 72 messages/);
  });
});
