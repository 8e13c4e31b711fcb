// Benchmark of the dashboard's hot paths (not a test): API latency of a 3-year daily series (the fleet
// total and one meter; goal p95 ≤ 100 ms) and the first page load in Debian's chromium.
// `npx node src/bench/serve.ts [--short] [--json] [--lake URL]`. Without --lake it builds gold daily from
// the real London daily file (500 households, Nov 2011 – Feb 2014), one Delta commit per month.

import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { FLEET_ID, METER_TABLES } from '../domain/meters/tables.ts';
import { Lake, type Row } from '../lake/index.ts';
import { DIST_DIR } from '../serve/build.ts';
import { startServer } from '../serve/server.ts';

const DATA = resolve(import.meta.dirname, '../../../shared/data/meters/london');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(ms: number[]): { n: number; p50: number; p95: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), max: r(s[s.length - 1]) };
}

/** The fleet's gold daily row of a day: the sum over the meters, as the bench lakes store it. */
export function fleetDailyRow(day: string, value: number): Row {
  return {
    meter_id: FLEET_ID,
    kind: 'electricity',
    day,
    value,
    unit: 'kWh',
    n_readings: 0,
    expected_readings: 0,
    complete: true,
    closed: true,
    tariff: null,
    acorn_group: null,
    month: day.slice(0, 7),
  };
}

/** Gold daily (meters and fleet rows) from the London daily file, as the stream would have written it. */
export async function buildBenchLake(
  url: string,
  log: (s: string) => void,
): Promise<{ rows: number; meters: number }> {
  const households = new Map<string, { tariff: string; acorn: string }>();
  for (const line of (await readFile(join(DATA, 'households.csv'), 'utf8')).split('\n').slice(1)) {
    const [id, tariff, , group] = line.split(',');
    if (id) households.set(id, { tariff, acorn: group });
  }
  const byMonth = new Map<string, Row[]>();
  const fleet = new Map<string, number>();
  const meters = new Set<string>();
  const rl = createInterface({
    input: createReadStream(join(DATA, 'daily_500_households.csv.gz')).pipe(createGunzip()),
  });
  let first = true;
  for await (const line of rl) {
    if (first) {
      first = false;
      continue;
    }
    const [id, day, kwh, n] = line.split(',');
    const value = Number(kwh);
    if (!id || !Number.isFinite(value)) continue;
    meters.add(id);
    const month = day.slice(0, 7);
    const h = households.get(id);
    let list = byMonth.get(month);
    if (!list) {
      list = [];
      byMonth.set(month, list);
    }
    const halfHours = Number(n);
    list.push({
      meter_id: id,
      kind: 'electricity',
      day,
      value,
      unit: 'kWh',
      n_readings: halfHours,
      expected_readings: 48,
      complete: halfHours === 48,
      closed: true,
      tariff: h?.tariff ?? null,
      acorn_group: h?.acorn ?? null,
      month,
    });
    fleet.set(day, (fleet.get(day) ?? 0) + value);
  }
  for (const [day, value] of fleet) {
    byMonth.get(day.slice(0, 7))!.push(fleetDailyRow(day, value));
  }
  const lake = await Lake.open(url);
  const t = METER_TABLES.daily;
  const table = lake.table(t.path);
  await table.ensure({
    schema: [...t.schema],
    partitionColumns: [...t.partitionColumns],
    description: t.description,
  });
  let rows = 0;
  for (const month of [...byMonth.keys()].sort()) {
    const list = byMonth.get(month)!;
    await table.write(list);
    rows += list.length;
  }
  log(`  gold daily: ${rows.toLocaleString('en-US')} rows, ${meters.size} meters, ${byMonth.size} commits`);
  await lake.close();
  return { rows, meters: meters.size };
}

async function timeRequests(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url);
    const body = (await res.json()) as { x?: number[]; error?: { message: string } };
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.error?.message}`);
    out.push(performance.now() - t0);
  }
  return out;
}

async function pageLoads(
  serverUrl: string,
  n: number,
): Promise<{ firstMs: number; loads: ReturnType<typeof summary> } | { skipped: string }> {
  const chromium = process.env.LAKESTREAM_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) return { skipped: `no chromium at ${chromium}` };
  const { chromium: pw } = await import('playwright-core');
  const ms: number[] = [];
  const browser = await pw.launch({
    executablePath: chromium,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    for (let i = 0; i < n; i++) {
      // A fresh context each time: an empty cache, as a first visit.
      const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(`${serverUrl}/#/consumption`);
      await page.waitForSelector('#page[data-ready="true"] .chart canvas', { timeout: 60_000 });
      ms.push(performance.now() - t0);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return { firstMs: Math.round(ms[0]), loads: summary(ms) };
}

export async function runServeBench(
  opts: { short?: boolean; json?: boolean; lake?: string } = {},
): Promise<object> {
  const log = (s: string) => {
    if (!opts.json) process.stderr.write(`${s}\n`);
  };
  const dir = opts.lake ? undefined : await mkdtemp(join(tmpdir(), 'lakestream-bench-serve-'));
  try {
    const lakeUrl = opts.lake ?? `file:${dir}`;
    let built: { rows: number; meters: number } | undefined;
    if (!opts.lake) {
      log('serve bench: building gold daily from the London daily file (500 households) …');
      built = await buildBenchLake(lakeUrl, log);
    }
    const server = await startServer({ port: 0, lake: lakeUrl, log });
    try {
      const meters = (await (await fetch(`${server.url}/api/meters?kind=electricity`)).json()) as {
        meters: { id: string; last_day: string; days: number }[];
      };
      const meter = [...meters.meters].sort((a, b) => b.days - a.days)[0];
      const bounds = (await (
        await fetch(`${server.url}/api/consumption?fleet&granularity=month`)
      ).json()) as { bounds: { last: string } };
      const to = bounds.bounds.last;
      const from = new Date(Date.UTC(+to.slice(0, 4) - 3, +to.slice(5, 7) - 1, +to.slice(8, 10) + 1))
        .toISOString()
        .slice(0, 10);
      const n = opts.short ? 50 : 300;
      const fleetUrl = `${server.url}/api/consumption?fleet&kind=electricity&from=${from}&to=${to}&granularity=day`;
      const meterUrl = `${server.url}/api/consumption?meter=${meter.id}&kind=electricity&from=${from}&to=${to}&granularity=day`;
      const points = ((await (await fetch(fleetUrl)).json()) as { x: number[] }).x.length;
      log(`serve bench: ${n} requests each for a 3-year daily series (${from} – ${to}, ${points} points) …`);
      await timeRequests(fleetUrl, 5);
      await timeRequests(meterUrl, 5);
      const fleet = summary(await timeRequests(fleetUrl, n));
      const one = summary(await timeRequests(meterUrl, n));
      // One month hourly reads silver through the lake's views (no in-memory copy): when the lake has it.
      const monthAgo = new Date(Date.UTC(+to.slice(0, 4), +to.slice(5, 7) - 2, +to.slice(8, 10) + 1))
        .toISOString()
        .slice(0, 10);
      const hourlyUrl = `${server.url}/api/consumption?fleet&kind=electricity&from=${monthAgo}&to=${to}&granularity=hour`;
      const hasSilver = (await fetch(hourlyUrl)).status === 200;
      const hourly = hasSilver ? summary(await timeRequests(hourlyUrl, Math.ceil(n / 5))) : undefined;
      if (hourly) log(`  fleet, one month hourly (silver): p50 ${hourly.p50} ms, p95 ${hourly.p95} ms`);
      log(
        `  fleet total: p50 ${fleet.p50} ms, p95 ${fleet.p95} ms   one meter (${meter.id}): p50 ${one.p50} ms, p95 ${one.p95} ms`,
      );
      log('serve bench: first page load in chromium (fresh context each time) …');
      const page = await pageLoads(server.url, opts.short ? 3 : 10);
      if ('firstMs' in page)
        log(`  first load ${page.firstMs} ms; p50 ${page.loads.p50} ms, p95 ${page.loads.p95} ms`);
      else log(`  skipped: ${page.skipped}`);
      const report = {
        scenario: 'serve',
        short: opts.short ?? false,
        lake: opts.lake ?? 'London daily file, 500 households (built)',
        goldDailyRows: built?.rows,
        range: { from, to, points },
        apiMs: {
          fleetTotal3yDaily: fleet,
          oneMeter3yDaily: { meter: meter.id, ...one },
          fleet1mHourly: hourly ?? null,
        },
        goalP95Ms: 100,
        pageLoad: page,
        bundleBytes: {
          js: (await stat(join(DIST_DIR, 'app.js'))).size,
          css: (await stat(join(DIST_DIR, 'app.css'))).size,
        },
        node: process.version,
        at: new Date().toISOString(),
      };
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      return report;
    } finally {
      await server.close();
    }
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--lake');
  const report = await runServeBench({
    short: args.includes('--short'),
    json: args.includes('--json'),
    lake: i >= 0 ? args[i + 1] : undefined,
  });
  if (!args.includes('--json')) console.log(JSON.stringify(report, null, 2));
}
