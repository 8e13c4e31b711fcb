// `lakestream demo`: the whole pipeline on this machine with embedded engines — replay (or
// simulate), stream into the lake, predict with a trained model, retrain on the lake, serve.

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { findDataDir, londonFile } from '../config/data-dir.ts';
import { lakeOption, lakeUrl, transportOption, transportUrl } from '../config/settings.ts';
import { describeError } from '../errors.ts';
import { Lake } from '../lake/index.ts';
import { CONSUMPTION_MODEL_NAME } from '../models/consumption/index.ts';
import { latestModelVersion } from '../models/registry.ts';
import { openSource, type SourceOptions } from '../sources/open-source.ts';
import { produceFrom } from '../sources/produce.ts';
import type { Source } from '../sources/source.ts';
import { runWorker, type WorkerStatus } from '../stream/worker.ts';
import { openTransport } from '../transport/index.ts';
import { loadEnrichment } from '../workloads/meters/enrich.ts';
import { metersWorkload } from '../workloads/meters/workload.ts';
import { defineCommand, numberOption, quietOption } from './command.ts';
import { trainDemoModel } from './demo-model.ts';
import { bar, formatCount, formatDuration, ProgressLine } from './progress.ts';
import { collectStatus } from './status.ts';
import { retrainOnLake } from './stream.ts';

interface DemoSource {
  label: string;
  options: SourceOptions;
  /** replays: keep event times before this (UTC ms) */
  until?: number;
}

interface DemoState {
  /** messages of each source already acknowledged by the transport */
  sent: Record<string, number>;
}

function addMonthsUtc(day: string, months: number): number {
  const [y, m, d] = day.split('-').map(Number);
  return Date.UTC(y, m - 1 + months, d);
}

/** A source that skips what an earlier run already sent and stops at `until`. */
function bounded(source: Source, skip: number, until: number | undefined): Source {
  return {
    ...source,
    fraction: () => source.fraction(),
    stats: () => source.stats(),
    async *batches() {
      let seen = 0;
      for await (const batch of source.batches()) {
        let out = batch;
        if (until !== undefined) {
          const cut = out.findIndex((m) => m.time !== undefined && m.time >= until);
          if (cut >= 0) out = out.slice(0, cut);
        }
        const start = Math.max(0, Math.min(out.length, skip - seen));
        seen += out.length;
        if (start < out.length) yield out.slice(start);
        if (out.length < batch.length) return;
      }
    },
  };
}

export default defineCommand({
  name: 'demo',
  summary: 'run the whole pipeline on one machine: replay, stream, train, predict, serve',
  usage: 'demo [--data DIR] [--months N] [--meters N] [--no-serve] [--port 3000]',
  description: `
Finds the sample data (--data DIR, else ../shared/data, else the built-in simulator), trains a first
forecast model when the London daily file is there, replays the London households (and the DAIAD
water meters) for --months months through the embedded transport while a stream worker writes the
Delta tables, retrains the model on the lake, and serves the dashboard until Ctrl-C.
Ctrl-C stops cleanly; running the demo again resumes where it stopped.`,
  options: {
    data: {
      type: 'string',
      value: 'DIR',
      help: 'sample data folder (default ../shared/data if present, else simulate)',
    },
    months: {
      type: 'string',
      value: 'N',
      help: 'months of readings to replay or simulate (default 12 with data, 3 simulated)',
    },
    meters: { type: 'string', value: 'N', help: 'simulated meters when there is no data (default 100)' },
    simulate: { type: 'boolean', help: 'use the simulator even when sample data is present' },
    'no-serve': { type: 'boolean', help: 'stop after the pipeline instead of serving the dashboard' },
    port: { type: 'string', default: '3000', value: 'PORT', help: 'dashboard port' },
    ...quietOption,
    ...transportOption,
    ...lakeOption,
  },
  async run({ values }) {
    const dataDir = values.simulate ? undefined : findDataDir(values.data);
    if (values.data && !dataDir)
      console.error(`demo: no meters/ folder under ${values.data}; using the simulator`);
    const months = numberOption('months', values.months, dataDir ? 12 : 2, { min: 1, integer: true });
    const meters = numberOption('meters', values.meters, 100, { min: 1, integer: true });
    const port = numberOption('port', values.port, 3000, { min: 0, integer: true });
    const tUrl = transportUrl(values.transport);
    const lUrl = lakeUrl(values.lake);
    // what was sent is kept beside a local lake (a bare folder too), so another lake starts afresh
    const localLake =
      /^[a-z][a-z0-9+.-]*:/i.test(lUrl) && !lUrl.startsWith('file:') ? undefined : lUrl.replace(/^file:/, '');
    const statePath = resolve(localLake ? join(localLake, '..') : '.lakestream', 'demo-state.json');

    const sources: DemoSource[] = [];
    const halfhourly = dataDir && join(dataDir, 'meters/london/halfhourly_2013_20_households.csv.gz');
    const water = dataDir && join(dataDir, 'meters/water/swm_trialA_clean.zip');
    if (halfhourly && existsSync(halfhourly))
      sources.push({
        label: 'London households (electricity)',
        options: { source: 'london-halfhourly', files: [halfhourly] },
        until: addMonthsUtc('2013-01-01', months),
      });
    if (water && existsSync(water))
      sources.push({
        label: 'DAIAD water meters',
        options: { source: 'water', files: [water] },
        until: addMonthsUtc('2016-03-01', months),
      });
    if (sources.length === 0)
      sources.push({
        label: `${meters} simulated meters`,
        options: { source: 'simulate', meters, months, start: '2013-01-01' },
      });

    console.log(
      `lakestream demo — ${dataDir ? `sample data from ${dataDir}` : values.simulate ? 'simulating meters from the built-in profile (--simulate)' : 'no sample data found: simulating meters from the built-in profile'}`,
    );
    console.log(`  transport ${tUrl}\n  lake      ${lUrl}\n`);

    const state: DemoState = existsSync(statePath)
      ? JSON.parse(await readFile(statePath, 'utf8'))
      : { sent: {} };
    const saveState = async () => {
      await mkdir(dirname(statePath), { recursive: true });
      await writeFile(statePath, JSON.stringify(state, null, 2));
    };

    const ac = new AbortController();
    const onSigint = () => {
      if (ac.signal.aborted) process.exit(130);
      process.stderr.write(
        '\nstopping cleanly (Ctrl-C again to quit at once); run the demo again to resume\n',
      );
      ac.abort();
    };
    process.on('SIGINT', onSigint);

    const transport = await openTransport(tUrl);
    const lake = await Lake.open(lUrl);
    try {
      // 1. A first model, so predictions from day 3 come from a trained model, not a baseline — one
      // that never saw the replayed households, so the dashboard's accuracy is out of sample.
      const daily500 = londonFile(dataDir, 'daily_500_households.csv.gz');
      if (daily500 && (await latestModelVersion(lake.store, CONSUMPTION_MODEL_NAME)) === undefined) {
        process.stderr.write(
          'training a first forecast model on the London daily file, without the households replayed…\n',
        );
        const v = await trainDemoModel(
          lake,
          daily500,
          halfhourly && existsSync(halfhourly) ? halfhourly : undefined,
        );
        console.log(`model consumption v${v} trained on ${daily500} without the replayed households`);
      }

      // 2. Stream while producing.
      const workload = metersWorkload({
        store: lake.store,
        retrain: () => retrainOnLake(lake),
        enrichment: loadEnrichment({
          householdsFile: londonFile(dataDir, 'households.csv'),
          holidaysFile: londonFile(dataDir, 'uk_bank_holidays.csv'),
        }),
      });
      let producing = true;
      // messages sent by the sources before the current one, and by the current one
      let producedBefore = 0;
      let produced = 0;
      let sourceIndex = 0;
      let status: WorkerStatus | undefined;
      const line = new ProgressLine();
      const started = Date.now();
      let current = '';
      let fraction = 0;
      const show = (force = false) => {
        const secs = (Date.now() - started) / 1000;
        const committed = status?.read ?? 0;
        // the bar is the share of the whole run that is committed: of the readings expected in all
        // (produced so far over the share of the input read), those the stream has committed
        const read = producing ? (sourceIndex + fraction) / sources.length : 1;
        const overall = produced > 0 ? Math.min(1, (committed / produced) * read) : 0;
        const eta = overall > 0.01 ? ((1 - overall) * secs) / overall : Number.NaN;
        if (values.quiet) return;
        line.update(
          `${current} ${bar(overall)} produced ${formatCount(produced)} (${formatCount(produced / Math.max(secs, 0.001))}/s) · committed ${formatCount(committed)} · ${overall >= 1 ? 'done' : `ETA ${producing ? formatDuration(eta) : 'draining'}`}`,
          force,
        );
      };
      const worker = runWorker({
        transport,
        lake,
        workload,
        group: 'lakestream-meters',
        drain: () => !producing || ac.signal.aborted,
        signal: undefined,
        onBatch: (s) => {
          status = s;
          show();
        },
      });
      try {
        for (const [i, s] of sources.entries()) {
          if (ac.signal.aborted) break;
          sourceIndex = i;
          fraction = 0;
          current = s.label;
          const skip = state.sent[s.label] ?? 0;
          const source = bounded(await openSource(s.options), skip, s.until);
          const summary = await produceFrom(
            source,
            { signal: ac.signal, progressEveryMs: 250 },
            transport,
            (p) => {
              produced = producedBefore + p.sent;
              fraction = p.fraction ?? 0;
              state.sent[s.label] = skip + p.sent;
              show();
            },
          );
          state.sent[s.label] = skip + summary.sent;
          await saveState();
          producedBefore += summary.sent;
          produced = producedBefore;
          fraction = 1;
          show(true);
        }
      } finally {
        producing = false;
        await saveState();
      }
      status = await worker;
      show(true);
      if (!values.quiet) line.done();
      console.log(
        `stream: read ${formatCount(status.read)}, accepted ${formatCount(status.accepted)}, quarantined ${formatCount(status.quarantined)}, duplicates dropped ${formatCount(status.duplicates)}`,
      );
      if (ac.signal.aborted) {
        console.log(
          `stopped. Run "npx lakestream ${['demo', ...process.argv.slice(3)].join(' ')}" again to resume.`,
        );
        return 130;
      }

      // 3. Retrain on what the lake now holds: the model adapts to the closed months.
      try {
        const v = await retrainOnLake(lake);
        console.log(`model consumption v${v} retrained on the lake's gold daily table`);
      } catch (e) {
        console.log(`model not retrained on the lake: ${describeError(e)}`);
      }

      // 4. What is where.
      const st = await collectStatus(tUrl, lUrl);
      console.log('\nTables in the lake:');
      for (const t of st.tables)
        console.log(
          `  ${t.table.padEnd(34)} ${(t.rows === null ? '?' : formatCount(t.rows)).padStart(11)} rows (v${t.version})`,
        );
      if (st.quarantine.length > 0)
        console.log(
          `Quarantine: ${st.quarantine.map((q) => `${q.reason} ${formatCount(q.count)}`).join(', ')}`,
        );
      // the hint names the engines given, so following it reads this lake, not the default one
      const engines = [
        ...(values.transport ? [`--transport ${values.transport}`] : []),
        ...(values.lake ? [`--lake ${values.lake}`] : []),
      ];
      const lakeFlags = values.lake ? ` --lake ${values.lake}` : '';
      console.log(
        `\nTry: npx lakestream status${engines.length ? ` ${engines.join(' ')}` : ''} · npx lakestream sql "SELECT * FROM meters_gold_monthly LIMIT 10"${lakeFlags}`,
      );

      if (values['no-serve']) return 0;
      const { startServer } = await import('../serve/server.ts');
      const server = await startServer({ port, lake: lUrl, transport: tUrl });
      console.log(`\nDashboard: ${server.url}  (Ctrl-C to stop)`);
      await new Promise<void>((r) => ac.signal.addEventListener('abort', () => r(), { once: true }));
      await server.close();
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      await transport.close();
      await lake.close();
    }
  },
});
