// `lakestream bench`: every scenario the README names is one the command runs, and an unknown one
// is refused with the list; --brokers is resilience's, 2 or 3.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { ROOT, runCli } from '../helpers/cli.ts';

it("lists in --help every scenario the README's benchmark section names, and refuses others by name", async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Evaluation and benchmarks'));
  const named = [...section.slice(0, section.indexOf('\n## ', 3)).matchAll(/`([a-z]+)`/g)]
    .map((m) => m[1])
    .filter((n) => n !== 'compare');
  assert.ok(named.length >= 10, `scenarios in the README: ${named.join(', ')}`);
  const help = await runCli(['bench', '--help']);
  assert.equal(help.code, 0);
  for (const n of named) assert.match(help.stdout, new RegExp(`^  ${n} `, 'm'), `bench --help lists ${n}`);
  const bad = await runCli(['bench', 'nosuch']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /not "nosuch"/);
  for (const n of named) assert.ok(bad.stderr.includes(n), `the refusal names ${n}`);
});

it('takes --brokers 2 or 3 for resilience only, and refuses anything else (exit 2) before starting a cluster', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-cli-'));
  const env = { LAKESTREAM_CLUSTER_DIR: dir };
  try {
    const help = await runCli(['bench', '--help']);
    assert.match(help.stdout, /--brokers 2\|3/);
    const four = await runCli(['bench', 'resilience', '--short', '--brokers', '4'], { env });
    assert.equal(four.code, 2, four.stderr);
    assert.match(four.stderr, /--brokers is 2 .* or 3 .*, not 4/);
    const half = await runCli(['bench', 'resilience', '--brokers', '2.5'], { env });
    assert.equal(half.code, 2, half.stderr);
    assert.match(half.stderr, /--brokers must be a whole number/);
    const other = await runCli(['bench', 'stress', '--short', '--brokers', '3'], { env });
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /--brokers is an option of bench resilience only, not of bench stress/);
    // refused before anything started: no cluster in the directory
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('takes --memory MB for train and batch only, at least 1024, and refuses it elsewhere before starting anything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lakestream-bench-cli-'));
  const env = { LAKESTREAM_CLUSTER_DIR: dir, LAKESTREAM_BENCH_LAKES: dir };
  try {
    const help = await runCli(['bench', '--help']);
    assert.match(help.stdout, /--memory MB/);
    assert.match(help.stdout, /split between them/);
    const small = await runCli(['bench', 'train', '--engine', 'duckdb', '--memory', '100'], { env });
    assert.equal(small.code, 2, small.stderr);
    assert.match(small.stderr, /--memory/);
    const other = await runCli(['bench', 'stress', '--short', '--memory', '4096'], { env });
    assert.equal(other.code, 2, other.stderr);
    assert.match(
      other.stderr,
      /--memory is an option of bench train and bench batch only, not of bench stress/,
    );
    assert.deepEqual(await readdir(dir), [], 'refused before anything started');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('bench pipeline takes --meters (one number) and --days, and reports the size it ran; --days is refused elsewhere', async () => {
  const r = await runCli(['bench', 'pipeline', '--meters', '40', '--days', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(report.meters, 40);
  assert.equal(report.days, 2);
  assert.ok(report.readings_per_second > 0 && report.peak_rss_mib.worker > 0, r.stdout);
  const list = await runCli(['bench', 'pipeline', '--meters', '40,80']);
  assert.equal(list.code, 2, list.stderr);
  assert.match(list.stderr, /bench pipeline runs one size: give --meters one number, not "40,80"/);
  const days = await runCli(['bench', 'stress', '--days', '2']);
  assert.equal(days.code, 2, days.stderr);
  assert.match(days.stderr, /--days is an option of bench pipeline only, not of bench stress/);
});

it('bench pipeline --workers 2 runs two stream workers in one group and reports each one', async () => {
  const r = await runCli(['bench', 'pipeline', '--meters', '40', '--days', '1', '--workers', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(report.workers, 2);
  assert.equal(report.readings, 40 * 48);
  assert.equal(report.peak_rss_mib.workers.length, 2);
  assert.ok(
    report.peak_rss_mib.workers.every((m: number) => m > 0),
    r.stdout,
  );
  assert.equal(report.worker_cpu_seconds_each.length, 2);
  assert.ok(report.worker_batches >= 1);
  const other = await runCli(['bench', 'kafka', '--workers', '2']);
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /--workers is an option of bench pipeline only, not of bench kafka/);
});
