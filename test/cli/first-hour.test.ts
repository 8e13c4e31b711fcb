// Issue 19, "the first hour of a new user": each thing a new user tripped on, as they typed it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, DATA, freshEngines, MAIN, ROOT, runCli } from '../helpers/cli.ts';

const LONDON_DAILY = join(DATA, 'meters/london/daily_500_households.csv.gz');
const UCI_DAILY = join(DATA, 'meters/uci/household_power_daily.csv.gz');

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lakestream-first-hour-'));
}

/** A PNG's first bytes and some of its chunks: what a user may give by mistake. */
async function png(dir: string): Promise<string> {
  const file = join(dir, 'chart.png');
  const body = Buffer.alloc(2000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 37) % 256;
  await writeFile(file, Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR', 'latin1'), body]));
  return file;
}

/** Runs the CLI with text on stdin. */
function withStdin(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** One error line in the one format, with no parser or engine text. */
function oneError(stderr: string, command: string): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], new RegExp(`^lakestream ${command}: .+ — .+`), stderr);
  assert.doesNotMatch(stderr, /unbalanced|ambiguous|ERR_PARSE_ARGS|at async|Binder Error|sniff/i);
}

describe('produce checks the format of each file before it sends or creates anything', () => {
  for (const [what, make] of [
    ['a PNG image', (dir: string) => png(dir)],
    [
      'random text',
      async (dir: string) => {
        const f = join(dir, 'notes.txt');
        await writeFile(f, 'the meters were read on tuesday\nsome of them twice\n\nnothing else\n');
        return f;
      },
    ],
    ['the London daily file', async () => LONDON_DAILY],
  ] as const)
    it(`refuses ${what} given as London half-hourly, naming file:line and the expected columns`, async () => {
      const dir = await tmp();
      const file = await make(dir);
      const log = join(dir, 'log');
      const r = await runCli([
        'produce',
        '--source',
        'london-halfhourly',
        '--file',
        file,
        '--transport',
        log,
      ]);
      assert.equal(r.code, 1, r.stderr);
      oneError(r.stderr, 'produce');
      assert.match(r.stderr, /:1: /);
      assert.match(r.stderr, /expects a CSV with the header LCLid,tstp,energy_kwh_hh/);
      assert.ok(!existsSync(log), 'the transport folder is not created');
    });

  it('says where the daily file differs: its header, found as it is', async () => {
    const r = await runCli([
      'produce',
      '--source',
      'london-halfhourly',
      '--file',
      LONDON_DAILY,
      '--transport',
      join(await tmp(), 'log'),
    ]);
    assert.match(
      r.stderr,
      /daily_500_households\.csv\.gz:1: not a London half-hourly header: no column tstp/,
    );
    assert.match(r.stderr, /found "LCLid,day,energy_kwh,n_halfhours"/);
  });

  it('with --limit, reports what it sent, rows read per file, and progress against the limit', async () => {
    const e = await freshEngines();
    const r = await cli([
      'produce',
      '--source',
      'simulate',
      '--meters',
      '50',
      '--days',
      '20',
      '--rate',
      '20000',
      '--limit',
      '40000',
      ...e.produceFlags,
    ]);
    assert.match(r.stderr, /stopped: 40,000 messages to meters\.readings \(--limit reached\)/);
    assert.match(r.stderr, /0 unparsed rows sent for quarantine/);
    const lines = [...r.stderr.matchAll(/([\d,]+) sent, .*?([\d.]+) %/g)];
    assert.ok(lines.length > 0, r.stderr);
    for (const [, sent, pct] of lines)
      assert.ok(
        Math.abs(Number(pct) - (Number(sent.replaceAll(',', '')) / 40_000) * 100) < 0.2,
        `${sent} sent at ${pct} %`,
      );
  });
});

describe('status', () => {
  it('shows the newest commit of each table as its last, in ISO 8601, with thousands separators', async () => {
    const e = await freshEngines();
    await cli(['lake', 'import', UCI_DAILY, 'uci/daily', '--lake', e.lake]);
    await new Promise((r) => setTimeout(r, 50));
    await cli(['lake', 'optimize', 'uci/daily', '--lake', e.lake]);
    await cli(['lake', 'import', UCI_DAILY, 'uci/daily', '--lake', e.lake]);
    const history = JSON.parse(
      (await cli(['lake', 'history', 'uci/daily', '--json', '--lake', e.lake])).stdout,
    );
    assert.match(history[0].timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const ls = JSON.parse((await cli(['lake', 'ls', '--json', '--lake', e.lake])).stdout);
    assert.equal(ls[0].updated, history[0].timestamp);
    // the embedded transport folder of these engines does not exist: status reports it, creates nothing
    const s = JSON.parse((await cli(['status', '--json', ...e.flags])).stdout);
    const t = s.tables.find((x: { table: string }) => x.table === 'uci/daily');
    assert.equal(t.last_commit, history[0].timestamp);
    assert.equal(t.operation, history[0].operation);
    assert.notEqual(history[0].timestamp, history.at(-1).timestamp);
    const text = await cli(['status', ...e.flags]);
    assert.match(text.stdout, /uci\/daily\s+v2\s+2,884 rows/);
    assert.match(text.stdout, /\(no transport at /);
    assert.ok(!existsSync(e.transport.slice('embedded:'.length)));
  });

  it('refuses a typo in --transport and --lake instead of creating them and reporting "no topics"', async () => {
    const dir = await tmp();
    const r = await runCli(['status', '--transport', join(dir, 'lgo'), '--lake', join(dir, 'lkae')]);
    assert.equal(r.code, 1);
    oneError(r.stderr, 'status');
    assert.match(r.stderr, /no transport at .*lgo and no lake at .*lkae/);
    assert.ok(!existsSync(join(dir, 'lgo')) && !existsSync(join(dir, 'lkae')));
  });
});

describe('sql', () => {
  it('lists the lake with SHOW TABLES and information_schema, reads a query from stdin, and prints --json', async () => {
    const e = await freshEngines();
    await cli(['lake', 'import', UCI_DAILY, 'uci/daily', '--lake', e.lake]);
    assert.match((await cli(['sql', 'SHOW TABLES', '--lake', e.lake])).stdout, /uci_daily\s+uci\/daily/);
    const info = await cli([
      'sql',
      'SELECT table_name FROM information_schema.tables',
      '--format',
      'csv',
      '--lake',
      e.lake,
    ]);
    assert.match(info.stdout, /uci_daily/);
    const piped = await withStdin(['sql', '--json', '--lake', e.lake], 'SELECT count(*) AS n FROM uci_daily');
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(JSON.parse(piped.stdout), [{ n: 1442 }]);
  });

  it("refuses writes and files with the read-only message, and names the lake's view for a typo", async () => {
    const e = await freshEngines();
    await cli(['lake', 'import', UCI_DAILY, 'uci/daily', '--lake', e.lake]);
    for (const [query, message] of [
      ['DELETE FROM uci_daily', /only read-only queries .* not DELETE/],
      ['DELETE FROM nope', /only read-only queries .* not DELETE/],
      ["SELECT * FROM read_csv('/etc/passwd')", /table function read_csv\(\) is not allowed/],
      ["SELECT * FROM '/etc/passwd'", /reading the file "\/etc\/passwd" is not allowed/],
    ] as const) {
      const r = await runCli(['sql', query, '--lake', e.lake]);
      assert.equal(r.code, 2, `${query}: ${r.stderr}`);
      oneError(r.stderr, 'sql');
      assert.match(r.stderr, message);
    }
    const typo = await runCli(['sql', 'SELECT * FROM uci_dialy', '--lake', e.lake]);
    assert.equal(typo.code, 1);
    oneError(typo.stderr, 'sql');
    assert.match(typo.stderr, /no table "uci_dialy" in the lake — did you mean "uci_daily"\?/);
    assert.doesNotMatch(typo.stderr, /pg_/);
  });
});

describe('flags mean the same everywhere', () => {
  it('refuses --lake on produce and bench by name, in the one format', async () => {
    for (const args of [
      ['produce', '--source', 'simulate', '--lake', 'x'],
      ['bench', 'lake', '--lake', 'x'],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2);
      oneError(r.stderr, args[0]);
      assert.match(r.stderr, new RegExp(`"${args[0]}" takes no --lake`));
    }
  });

  it('suggests what was meant: a command, a flag, a subcommand, a scenario', async () => {
    const cmd = await runCli(['strem']);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /^lakestream: unknown command "strem" — did you mean "stream"\?/);
    const flag = await runCli(['stream', '--drian']);
    assert.equal(flag.code, 2);
    oneError(flag.stderr, 'stream');
    assert.match(flag.stderr, /unknown option --drian — did you mean --drain\?/);
    const sub = await runCli(['lake', 'hisotry']);
    assert.match(sub.stderr, /^lakestream lake: unknown subcommand "hisotry": .* — did you mean "history"\?/);
    const scenario = await runCli(['bench', 'pipline']);
    assert.match(scenario.stderr, /did you mean "pipeline"\?/);
  });

  it('takes a negative number as a value and refuses it as one; refuses --lake file: with no folder', async () => {
    const rate = await runCli(['produce', '--source', 'simulate', '--rate', '-5']);
    assert.equal(rate.code, 2);
    oneError(rate.stderr, 'produce');
    assert.match(rate.stderr, /--rate must be > 0 or max, got "-5"/);
    const lake = await runCli(['lake', 'ls', '--lake', 'file:']);
    assert.equal(lake.code, 2);
    assert.match(lake.stderr, /--lake "file:" names no folder/);
  });

  it('takes a bare folder for --transport as for --lake', async () => {
    const dir = await tmp();
    const r = await cli([
      'produce',
      '--source',
      'simulate',
      '--meters',
      '2',
      '--days',
      '1',
      '-q',
      '--transport',
      join(dir, 'log'),
    ]);
    assert.match(r.stderr, /done: 96 messages/);
    assert.match(
      (await cli(['status', '--transport', join(dir, 'log'), '--lake', join(dir, 'lake')])).stdout,
      /meters\.readings\s+group lakestream-meters\s+end\s+96/,
    );
  });

  it('has --version, help <command>, --json on sql and train, -q on stream, --file on train and model', async () => {
    const v = await cli(['--version']);
    assert.match(v.stdout, /^lakestream \d+\.\d+\.\d+/);
    const h = await cli(['help', 'produce']);
    assert.match(h.stdout, /^lakestream produce — /);
    for (const c of ['sql', 'train', 'model', 'status', 'lake'])
      assert.match((await cli([c, '--help'])).stdout, /--json/, c);
    for (const c of ['produce', 'stream', 'demo', 'lake'])
      assert.match((await cli([c, '--help'])).stdout, /-q, --quiet/, c);
    for (const c of ['train', 'model']) assert.match((await cli([c, '--help'])).stdout, /--file FILE/, c);
    const both = await runCli(['train', '--file', LONDON_DAILY, '--data', LONDON_DAILY]);
    assert.equal(both.code, 2);
    const e = await freshEngines();
    const trained = await cli(['train', '--file', LONDON_DAILY, '--json', '--lake', e.lake]);
    const j = JSON.parse(trained.stdout);
    assert.equal(j.model, 'consumption');
    assert.equal(j.version, 1);
  });
});

describe('demo', () => {
  it('says --simulate is why it simulates, and its closing hint keeps the --transport and --lake given', async () => {
    const e = await freshEngines();
    const r = await cli(['demo', '--simulate', '--meters', '5', '--months', '1', '--no-serve', ...e.flags]);
    assert.match(r.stdout, /simulating meters from the built-in profile \(--simulate\)/);
    assert.doesNotMatch(r.stdout, /no sample data found/);
    assert.ok(
      r.stdout.includes(`Try: npx lakestream status --transport ${e.transport} --lake ${e.lake}`),
      r.stdout,
    );
    assert.ok(r.stdout.includes(`LIMIT 10" --lake ${e.lake}`), r.stdout);
    // the progress bar is the whole run: produced only grows, committed never passes it
    const bars = [...r.stderr.matchAll(/(\d+)% produced ([\d,]+) .*committed ([\d,]+)/g)];
    assert.ok(bars.length > 0, r.stderr);
    for (const m of bars) {
      const [pct, produced, committed] = [m[1], m[2], m[3]].map((x) => Number(x.replaceAll(',', '')));
      assert.ok(committed <= produced, m[0]);
      // 100 % only once everything produced is committed
      assert.ok(pct <= Math.round((committed / produced) * 100), m[0]);
    }
    assert.match(r.stderr, /100% produced ([\d,]+) .*committed \1 · done\n$/);
  });
});

describe('small but visible', () => {
  it('names the command once: no doubled prefixes, no empty subcommand', async () => {
    for (const [args, start] of [
      [['lake'], /^lakestream lake: give a subcommand: ls, history/],
      [['bench'], /^lakestream bench: give a scenario — one of lake/],
      [['model'], /^lakestream model: give a subcommand — use "lakestream model evaluate --file FILE"/],
      [['profile'], /^lakestream profile: give a subcommand — use "lakestream profile learn FILE"/],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 2);
      oneError(r.stderr, args[0]);
      assert.match(r.stderr, start);
      assert.doesNotMatch(r.stderr, /(lake|bench): \1:|""/);
    }
  });

  it('writes no table version for a stream --drain with nothing new since the last drain', async () => {
    const e = await freshEngines();
    await cli(['produce', '--source', 'simulate', '--meters', '3', '--days', '2', '-q', ...e.produceFlags]);
    await cli(['stream', '--drain', '--retrain', 'off', '-q', ...e.flags]);
    const versions = async () =>
      JSON.parse((await cli(['lake', 'ls', '--json', '--lake', e.lake])).stdout).map(
        (t: { table: string; version: number }) => `${t.table} v${t.version}`,
      );
    const before = await versions();
    await cli(['stream', '--drain', '--retrain', 'off', '-q', ...e.flags]);
    assert.deepEqual(await versions(), before);
    // new readings are drained as before
    await cli([
      'produce',
      '--source',
      'simulate',
      '--meters',
      '3',
      '--days',
      '1',
      '--start',
      '2013-01-03',
      '-q',
      ...e.produceFlags,
    ]);
    await cli(['stream', '--drain', '--retrain', 'off', '-q', ...e.flags]);
    assert.notDeepEqual(await versions(), before);
  });

  it('refuses a PNG in lake import in one line, and vacuum --delete below a week without --force', async () => {
    const dir = await tmp();
    const e = await freshEngines();
    const r = await runCli(['lake', 'import', await png(dir), 'raw/png', '--lake', e.lake]);
    assert.equal(r.code, 1);
    oneError(r.stderr, 'lake');
    assert.match(r.stderr, /chart\.png:1: binary data, not CSV text/);
    await cli(['lake', 'import', UCI_DAILY, 'uci/daily', '--lake', e.lake]);
    const v = await runCli([
      'lake',
      'vacuum',
      'uci/daily',
      '--retention-hours',
      '0',
      '--delete',
      '--lake',
      e.lake,
    ]);
    assert.equal(v.code, 2);
    assert.match(v.stderr, /add --force/);
  });

  it('reads nothing that is not there: lake ls and sql on a missing lake say so and create nothing', async () => {
    const dir = await tmp();
    for (const args of [
      ['lake', 'ls'],
      ['sql', 'SELECT 1'],
    ]) {
      const r = await runCli([...args, '--lake', join(dir, 'nolake')]);
      assert.equal(r.code, 1);
      oneError(r.stderr, args[0]);
      assert.match(r.stderr, /no lake at /);
    }
    assert.ok(!existsSync(join(dir, 'nolake')));
  });
});
