// Acceptance: `lakestream model evaluate` on the shipped data — out of sample, the model beats the obvious rules.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';

const DATA = '/work/shared/data/meters';
const LONDON = `${DATA}/london/daily_500_households.csv.gz`;
const UCI = `${DATA}/uci/household_power_daily.csv.gz`;
const tmp = mkdtempSync(join(tmpdir(), 'lakestream-eval-'));

function lakestream(...args: string[]) {
  const r = spawnSync(process.execPath, ['src/cli/main.ts', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Summary {
  mape: number;
  mdape: number;
  wape: number;
}
interface Report {
  meters: number;
  results: Row[];
  protocols: Record<'households_never_seen' | 'months_after_training', Protocol | { skipped: string }>;
}
interface Protocol {
  trained_on: { meters: number; meter_months: number; first_month: string; last_month: string };
  scored: { meters: number; meter_months: number; first_month: string; last_month: string };
  results: Row[];
}
interface Row {
  k: number | 'last';
  n: number;
  model: Summary;
  runrate: Summary;
  blend: Summary;
  same_month_last_year: Summary & { n: number };
  model_on_same_month_last_year_months: Summary;
  best_baseline: 'runrate' | 'blend';
  ratio_to_best: number;
  ci95: { model_mape: [number, number]; model_minus_best: [number, number] };
}

function evaluate(...args: string[]): Report {
  const r = lakestream('model', 'evaluate', ...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/**
 * The model beats every baseline where that baseline can predict: run-rate and blend on every meter-month,
 * same-month-last-year on the meter-months that have a last year (like for like).
 */
function assertBeatsEveryBaseline(row: Row) {
  const m = row.model.mape.toFixed(2);
  assert.ok(
    row.model.mape < row.runrate.mape,
    `k=${row.k}: model ${m} ≥ run-rate ${row.runrate.mape.toFixed(2)}`,
  );
  assert.ok(row.model.mape < row.blend.mape, `k=${row.k}: model ${m} ≥ blend ${row.blend.mape.toFixed(2)}`);
  if (row.same_month_last_year.n > 0) {
    const own = row.model_on_same_month_last_year_months.mape;
    assert.ok(
      own < row.same_month_last_year.mape,
      `k=${row.k}: on months with a last year, model ${own.toFixed(2)} ≥ same month last year ${row.same_month_last_year.mape.toFixed(2)}`,
    );
  }
}

function assertBeatsBaselinesAndImproves(report: { results: Row[] }) {
  for (const row of report.results) assertBeatsEveryBaseline(row);
  const mapes = report.results.map((r) => r.model.mape);
  for (let i = 1; i < mapes.length; i++)
    assert.ok(mapes[i] < mapes[i - 1], `error does not fall with k: ${mapes.join(', ')}`);
}

test('on 500 London households the model beats every baseline at every k by both out-of-sample protocols', () => {
  const report = evaluate('--data', LONDON);
  assert.equal(report.meters, 500);
  const unseen = report.protocols.households_never_seen as Protocol;
  const later = report.protocols.months_after_training as Protocol;
  // never seen: half the households trained on, the other half scored
  assert.equal(unseen.trained_on.meters, 250);
  assert.equal(unseen.scored.meters, 250);
  // after the training window: every scored month comes after every trained one
  assert.ok(later.trained_on.last_month < later.scored.first_month, JSON.stringify(later));
  for (const p of [unseen, later]) {
    assert.deepEqual(
      p.results.map((r) => r.k),
      [3, 7, 14, 21, 'last'],
    );
    assertBeatsBaselinesAndImproves(p);
    for (const r of p.results) {
      const [lo, hi] = r.ci95.model_mape;
      assert.ok(lo <= r.model.mape && r.model.mape <= hi, `k=${r.k}: ${r.model.mape} outside ${lo}…${hi}`);
      assert.ok(r.n > 4000, `k=${r.k}: ${r.n} meter-months`);
    }
  }
});

test('a model trained on half the households keeps its lead on the other half', () => {
  const lines = gunzipSync(readFileSync(LONDON)).toString('utf8').trimEnd().split('\n');
  const ids = [...new Set(lines.slice(1).map((l) => l.slice(0, l.indexOf(','))))].sort();
  const trainIds = new Set(ids.filter((_, i) => i % 2 === 0));
  const dir = mkdtempSync(join(tmpdir(), 'lakestream-split-'));
  const trainFile = join(dir, 'train.csv');
  const testFile = join(dir, 'heldout.csv');
  writeFileSync(
    trainFile,
    [lines[0], ...lines.slice(1).filter((l) => trainIds.has(l.slice(0, l.indexOf(','))))].join('\n'),
  );
  writeFileSync(
    testFile,
    [lines[0], ...lines.slice(1).filter((l) => !trainIds.has(l.slice(0, l.indexOf(','))))].join('\n'),
  );
  const lake = `file:${join(dir, 'lake')}`;
  const trained = lakestream('train', '--data', trainFile, '--lake', lake);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stdout, /registered consumption v1/);
  const report = evaluate('--data', testFile, '--model', 'latest', '--lake', lake);
  assert.equal(report.meters, ids.length - trainIds.size);
  assertBeatsBaselinesAndImproves(report);
});

test('on the UCI house the months after the training window are predicted better than by any baseline at k = 3', () => {
  const report = evaluate('--data', UCI);
  assert.match((report.protocols.households_never_seen as { skipped: string }).skipped, /1 meter/);
  const k3 = (report.protocols.months_after_training as Protocol).results[0];
  assert.equal(k3.n, 12);
  assert.equal(k3.k, 3);
  assertBeatsEveryBaseline(k3);
});

function badFile(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

test('a file with wrong columns is refused, naming the file and line 1', () => {
  const p = badFile('cols.csv', 'id,date,kwh\nA,2013-01-01,3\n');
  const r = lakestream('model', 'evaluate', '--data', p);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${p}:1: wrong columns`));
});

test('a file in Wh instead of kWh is refused, naming the line', () => {
  const p = badFile(
    'wh.csv',
    'LCLid,day,energy_kwh,n_halfhours\nA,2013-01-01,9.5,48\nA,2013-01-02,9512.0,48\n',
  );
  const r = lakestream('model', 'evaluate', '--data', p);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${p}:3: wrong units`));
  const q = badFile('whcol.csv', 'LCLid,day,energy_wh,n_halfhours\nA,2013-01-01,9500,48\n');
  assert.match(lakestream('model', 'evaluate', '--data', q).stderr, new RegExp(`${q}:1: wrong units`));
});

test('a file without one complete month is refused', () => {
  const rows = Array.from({ length: 20 }, (_, i) => `A,2013-01-${String(i + 1).padStart(2, '0')},9.5,48`);
  const p = badFile('short.csv', ['LCLid,day,energy_kwh,n_halfhours', ...rows].join('\n'));
  const r = lakestream('model', 'evaluate', '--data', p);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${p}: no complete month`));
});

test('an empty file is refused', () => {
  const p = badFile('empty.csv', '');
  const r = lakestream('model', 'evaluate', '--data', p);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${p}: empty file`));
});

test('a malformed row is refused, naming its line', () => {
  const p = badFile(
    'row.csv',
    'LCLid,day,energy_kwh,n_halfhours\nA,2013-01-01,9.5,48\nA,2013-13-02,9.1,48\n',
  );
  assert.match(lakestream('model', 'evaluate', '--data', p).stderr, new RegExp(`${p}:3: day "2013-13-02"`));
});
