// The server follows the lake: a new Delta version of gold daily reaches the API's in-memory copy and
// the Explore sandbox within seconds, without a restart.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { METER_TABLES } from '../../src/domain/meters/tables.ts';
import { Lake, type Row } from '../../src/lake/index.ts';
import { startServer } from '../../src/serve/server.ts';

function days(meter: string, from: number, to: number): Row[] {
  const out: Row[] = [];
  for (let d = from; d <= to; d++) {
    const day = `2013-01-${String(d).padStart(2, '0')}`;
    out.push({
      meter_id: meter,
      kind: 'electricity',
      day,
      value: d,
      unit: 'kWh',
      n_readings: 48,
      expected_readings: 48,
      complete: true,
      closed: true,
      tariff: 'Std',
      acorn_group: 'Affluent',
      month: '2013-01',
    });
  }
  return out;
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a server over a lake that changes', () => {
  let lake: Lake;
  let server: Awaited<ReturnType<typeof startServer>>;
  const t = METER_TABLES.daily;

  before(async () => {
    const url = `file:${await mkdtemp(join(tmpdir(), 'lakestream-serve-refresh-'))}`;
    lake = await Lake.open(url);
    await lake.table(t.path).ensure({ schema: [...t.schema], partitionColumns: [...t.partitionColumns] });
    await lake.table(t.path).write(days('MAC000001', 1, 10));
    server = await startServer({ port: 0, lake: url, log: () => {} });
  });
  after(async () => {
    await server?.close();
    await lake?.close();
  });

  it('shows rows committed after it started, in the API and in Explore', async () => {
    const series = async () => {
      const r = await fetch(
        `${server.url}/api/consumption?meter=MAC000001&from=2013-01-01&to=2013-01-31&granularity=day`,
      );
      return ((await r.json()) as { y: number[] }).y;
    };
    const count = async () => {
      const r = await fetch(`${server.url}/api/sql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM meters_gold_daily' }),
      });
      return ((await r.json()) as { rows: number[][] }).rows[0][0];
    };
    assert.deepEqual(await series(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(await count(), 10);
    await lake.table(t.path).write(days('MAC000001', 11, 20));
    const y = await until('the API series', series, (v) => v.length === 20);
    assert.deepEqual(
      y,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal(await until('the Explore count', count, (n) => n === 20), 20);
  });
});
