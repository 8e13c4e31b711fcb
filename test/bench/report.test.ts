// The evaluation's reports: a short baseline on the embedded engines writes result.json, a self-contained
// HTML report that renders its charts in chromium (screenshot for CI), and a markdown summary;
// `bench compare` puts two results side by side.

import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runBaselineBench } from '../../src/bench/baseline.ts';
import type { BenchResult } from '../../src/bench/result.ts';
import { cli, runCli } from '../helpers/cli.ts';
import { launchChromium, SCREENSHOTS } from '../serve/chromium.ts';

describe('bench reports', { timeout: 300_000 }, () => {
  let result: BenchResult;

  before(async () => {
    result = await runBaselineBench({ engines: 'embedded', seconds: 12 });
  });

  it('stores every reading of a short baseline once and records its end-to-end latency', () => {
    assert.equal(result.ok, true, result.verdict);
    assert.equal(result.summary.acknowledged, 12);
    assert.equal(result.summary.stored_distinct, 12);
    assert.ok(Number(result.summary.latency_p95_ms) > 0, 'a p95 latency in ms');
    assert.ok(result.series.length >= 5, 'samples once a second');
  });

  it('writes a self-contained HTML report whose charts render in chromium', async () => {
    const html = await readFile(join(result.dir as string, 'report.html'), 'utf8');
    assert.doesNotMatch(
      html,
      /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/,
      'no outside resources',
    );
    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      await page.goto(`file://${join(result.dir as string, 'report.html')}`);
      const charts = await page.$$eval('svg', (svgs) =>
        svgs.map((s) => ({
          label: s.getAttribute('aria-label'),
          width: s.getBoundingClientRect().width,
          drawn: Array.from(s.querySelectorAll('path')).filter((p) =>
            (p.getAttribute('d') ?? '').includes('L'),
          ).length,
        })),
      );
      assert.deepEqual(
        charts.map((c) => c.label),
        [
          'Throughput',
          'End-to-end latency',
          'Consumer lag',
          'CPU per process',
          'Memory per process',
          'Open files per process',
        ],
      );
      for (const c of charts) {
        assert.ok(c.width > 400, `${c.label} is laid out`);
        assert.ok(c.drawn > 0, `${c.label} draws a line`);
      }
      assert.match((await page.textContent('.verdict')) ?? '', /12 readings at 1\/s, all in the lake once/);
      await mkdir(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'bench-report.png'), fullPage: true });
    } finally {
      await close();
    }
  });

  it('writes a markdown summary with the headline figures', async () => {
    const md = await readFile(join(result.dir as string, 'summary.md'), 'utf8');
    assert.match(md, /^# lakestream bench baseline/);
    assert.match(md, /\| latency_p95_ms \| \d+/);
  });

  it('compares two runs side by side, and names a path that holds no result', async () => {
    const r = await cli([
      'bench',
      'compare',
      result.dir as string,
      join(result.dir as string, 'result.json'),
    ]);
    assert.match(r.stdout, /figure\s+A\s+B\s+change/);
    assert.match(r.stdout, /latency_p95_ms\s+\d+\s+\d+\s+=/);
    const bad = await runCli(['bench', 'compare', result.dir as string, '/nonexistent/run']);
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /no result at \/nonexistent\/run\/?result\.json|no result at \/nonexistent\/run/,
    );
  });
});
