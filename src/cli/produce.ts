// `lakestream produce`: replay files or simulate meters into the transport, with progress and a summary.

import { resolve } from 'node:path';
import { transportOption, transportUrl } from '../config/settings.ts';
import { LakestreamError } from '../errors.ts';
import { openSource, SIMULATE_DEFAULTS, SOURCE_NAMES, type SourceName } from '../sources/open-source.ts';
import { commandIdentity, defaultPositionFile, ProducerPosition } from '../sources/position.ts';
import {
  type ProduceOptions,
  type ProduceProgress,
  type ProduceSummary,
  produceFrom,
} from '../sources/produce.ts';
import { openTransport } from '../transport/index.ts';
import { defineCommand, numberOption, quietOption } from './command.ts';

function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function progressLine(p: ProduceProgress): string {
  if (p.sent === 0 && p.fraction !== undefined && p.fraction < 1)
    return `${p.source}: reading the input, ${(p.fraction * 100).toFixed(1)} %`;
  if (p.sent === 0) return `${p.source}: putting the rows in event-time order`;
  const parts = [`${p.source}: ${fmtCount(p.sent)} sent`, `${fmtCount(p.rate)}/s`];
  if (p.unparsed > 0) parts.push(`${fmtCount(p.unparsed)} unparsed`);
  if (p.fraction !== undefined) parts.push(`${(p.fraction * 100).toFixed(1)} %`);
  if (p.etaSeconds !== undefined && !p.done) parts.push(`ETA ${fmtDuration(p.etaSeconds)}`);
  return parts.join(', ');
}

export function summaryText(s: ProduceSummary): string {
  const lines = [
    `${s.stopped ? 'stopped' : 'done'}: ${fmtCount(s.sent)} messages to ${s.topic}${s.limited ? ' (--limit reached)' : ''} in ${s.seconds.toFixed(1)} s (${fmtCount(s.rate)}/s)` +
      `, ${fmtCount(s.unparsed)} unparsed rows sent for quarantine` +
      (s.skipped > 0 ? `, ${fmtCount(s.skipped)} skipped` : '') +
      (s.resumed > 0
        ? `; resumed after ${fmtCount(s.resumed)} messages an earlier run had acknowledged`
        : ''),
  ];
  // per file: what was read (a time-ordered replay reads every row before it sends, so a --limit
  // or a Ctrl-C sends fewer than were read)
  for (const f of s.files)
    lines.push(
      `  ${f.label}: ${fmtCount(f.messages)} rows read${s.stopped ? '' : ' and sent'}, ${fmtCount(f.unparsed)} unparsed` +
        (f.skipped > 0 ? `, ${fmtCount(f.skipped)} skipped (${f.skipReason ?? 'by the source'})` : ''),
    );
  return lines.join('\n');
}

export default defineCommand({
  name: 'produce',
  summary: 'send readings (replayed files, simulated meters, trace events) to the transport',
  usage:
    'produce --source london-halfhourly|uci-hourly|water|simulate|google-2011|jsonl [--file PATH…]\n' +
    '                  [--meters N] [--rate R|max] [--speed X] [--threads N] [--start DATE] [--days N|--months N]\n' +
    '                  [--seed N] [--profile FILE] [--limit N] [--transport URL]',
  description: `
Replays real files (streamed; .gz and .zip read directly) or simulates a fleet of meters, and sends
one message per reading to the topic meters.readings (trace rows to trace.events), keyed by meter
(schema: docs/reading-schema.md). Replayed rows go out in event-time order across meters and files
(--order file keeps the file's order). Rows that cannot be parsed are sent as {"unparsed": …} so the
stream worker quarantines them with their file and line.

Sources:
  london-halfhourly  LCLid,tstp,energy_kwh_hh (Low Carbon London, GMT half hours)
  uci-hourly         the UCI Sceaux house, hourly (kWh = Global_active_power / 60; Voltage = 0 hours are gaps, skipped)
  water              DAIAD zip: user.key;datetime;meter.reading;diff (cumulative litres, Europe/Madrid)
  simulate           --meters N (up to 1,000,000) from a learned profile (default: shipped, learned from London)
  google-2011        Google cluster trace files (task_events, job_events, task_usage, machine_events), shards merged by time
  jsonl              every line of the file as one message, byte for byte

Pacing: --rate 1000 (messages/s) or --rate max (default); --speed 86400 replays one day of event
time per second. Ctrl-C stops after the batch in flight is acknowledged.

Resuming: after every acknowledged send the producer records how many of the source's messages are
acknowledged in a position file (--position FILE; default one per command under .lakestream/producer/,
named by the source, its inputs and options and the transport). The same command run again after a
kill or Ctrl-C skips those and sends the rest: at most the unacknowledged send in flight goes out twice,
which the stream drops as duplicates. A run that reaches its end (or --limit) deletes its position, so
the next run of it starts over; --position off keeps none.

Examples:
  lakestream produce --source london-halfhourly --file ../shared/data/meters/london/halfhourly_2013_20_households.csv.gz
  lakestream produce --source simulate --meters 1000 --days 7 --rate max --threads 2
  lakestream produce --source simulate --meters 20 --days 2 --speed 86400
  lakestream produce --source google-2011 --file ../shared/data/cluster-trace/google-2011/task_events --limit 100000`,
  options: {
    source: { type: 'string', value: 'NAME', help: `one of ${SOURCE_NAMES.join(', ')}` },
    file: {
      type: 'string',
      multiple: true,
      value: 'PATH',
      help: 'input file or directory (repeat for several)',
    },
    meters: {
      type: 'string',
      value: 'N',
      help: `simulate: number of meters (default ${SIMULATE_DEFAULTS.meters})`,
    },
    rate: { type: 'string', value: 'R|max', help: 'messages per second, or max', default: 'max' },
    speed: { type: 'string', value: 'X', help: 'pace by event time, X times faster than real time' },
    threads: { type: 'string', value: 'N', help: 'simulate: generator threads', default: '1' },
    start: {
      type: 'string',
      value: 'DATE',
      help: `simulate: first local day (default ${SIMULATE_DEFAULTS.start})`,
    },
    days: { type: 'string', value: 'N', help: 'simulate: number of days' },
    months: {
      type: 'string',
      value: 'N',
      help: `simulate: number of months (default ${SIMULATE_DEFAULTS.months})`,
    },
    seed: { type: 'string', value: 'N', help: `simulate: random seed (default ${SIMULATE_DEFAULTS.seed})` },
    profile: {
      type: 'string',
      value: 'FILE',
      help: 'simulate: a profile JSON from "lakestream profile learn", or a shipped one: london (default, electricity), water (DAIAD)',
    },
    zone: {
      type: 'string',
      value: 'TZ',
      help: `simulate: the meters' time zone (default: the profile's, else ${SIMULATE_DEFAULTS.zone})`,
    },
    interval: { type: 'string', value: 'MIN', help: 'simulate: 30 or 60 minutes (default 30; water 60)' },
    order: { type: 'string', value: 'time|file', help: 'replay order', default: 'time' },
    topic: { type: 'string', value: 'NAME', help: 'jsonl: topic to send to (default meters.readings)' },
    limit: { type: 'string', value: 'N', help: 'stop after N messages' },
    'batch-size': { type: 'string', value: 'N', help: 'messages per send', default: '5000' },
    position: {
      type: 'string',
      value: 'FILE|off',
      help: 'where to keep the acknowledged position (default .lakestream/producer/<command>.json)',
    },
    ...quietOption,
    ...transportOption,
  },
  async run({ values }) {
    const source = values.source as SourceName | undefined;
    if (!source || !(SOURCE_NAMES as readonly string[]).includes(source))
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `--source must be one of ${SOURCE_NAMES.join(', ')}${source ? `, got "${source}"` : ''}`,
      );
    // parseArgs leaves a repeatable flag undefined when it is not given
    const files = (values.file as string[] | undefined) ?? [];
    if (source !== 'simulate' && files.length === 0)
      throw new LakestreamError('BAD_ARGUMENT', `--source ${source} needs --file PATH`);
    if (values.days !== undefined && values.months !== undefined)
      throw new LakestreamError('BAD_ARGUMENT', 'give --days or --months, not both');
    if (values.order !== 'time' && values.order !== 'file')
      throw new LakestreamError('BAD_ARGUMENT', `--order must be time or file, got "${values.order}"`);
    const interval =
      values.interval === undefined
        ? undefined
        : numberOption('interval', values.interval, 30, { integer: true });
    if (interval !== undefined && interval !== 30 && interval !== 60)
      throw new LakestreamError('BAD_ARGUMENT', `--interval must be 30 or 60, got ${interval}`);
    const rate = values.rate === 'max' ? 'max' : numberOption('rate', values.rate, 0, {});
    if (rate !== 'max' && rate <= 0)
      throw new LakestreamError('BAD_ARGUMENT', `--rate must be > 0 or max, got "${values.rate}"`);

    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write(
        '\nstopping after the batch in flight is acknowledged (Ctrl-C again to quit now)\n',
      );
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    const options: ProduceOptions = {
      source,
      files,
      order: values.order as 'time' | 'file',
      topic: values.topic,
      meters:
        values.meters === undefined
          ? undefined
          : numberOption('meters', values.meters, 0, { integer: true, min: 1 }),
      seed: values.seed === undefined ? undefined : numberOption('seed', values.seed, 1, { integer: true }),
      start: values.start,
      days:
        values.days === undefined
          ? undefined
          : numberOption('days', values.days, 1, { integer: true, min: 1 }),
      months:
        values.months === undefined
          ? undefined
          : numberOption('months', values.months, 1, { integer: true, min: 1 }),
      profile: values.profile,
      zone: values.zone,
      intervalMinutes: interval as 30 | 60 | undefined,
      threads: numberOption('threads', values.threads, 1, { integer: true, min: 1 }),
      rate: rate as number | 'max',
      speed: values.speed === undefined ? undefined : numberOption('speed', values.speed, 1, {}),
      limit:
        values.limit === undefined
          ? undefined
          : numberOption('limit', values.limit, 0, { integer: true, min: 1 }),
      batchSize: numberOption('batch-size', values['batch-size'], 5000, { integer: true, min: 1 }),
      signal: controller.signal,
    };
    const url = transportUrl(values.transport);
    // what the messages are depends on these and only these: pacing and batching do not change them
    const identity = commandIdentity({
      source,
      files: files.map((f) => resolve(f)),
      order: options.order,
      topic: options.topic,
      meters: options.meters,
      seed: options.seed,
      start: options.start,
      days: options.days,
      months: options.months,
      profile: options.profile,
      zone: options.zone,
      interval: options.intervalMinutes,
      threads: options.threads,
      transport: url,
    });
    const positionFlag = values.position as string | undefined;
    if (positionFlag !== 'off')
      options.position = await ProducerPosition.open(
        positionFlag ? resolve(positionFlag) : defaultPositionFile(identity),
        identity,
      );
    // every file's format is checked (openSource) before the transport is opened or anything sent
    const opened = await openSource(options);
    const transport = await openTransport(url);
    const tty = process.stderr.isTTY;
    try {
      const summary = await produceFrom(
        opened,
        options,
        transport,
        values.quiet
          ? undefined
          : (p) => {
              if (p.done) return;
              process.stderr.write(tty ? `\r\x1b[K${progressLine(p)}` : `${progressLine(p)}\n`);
            },
      );
      if (tty && !values.quiet) process.stderr.write('\r\x1b[K');
      // the end reached: a rerun of this command is a new replay, not a resumption
      if (!controller.signal.aborted) await options.position?.clear();
      process.stderr.write(`${summaryText(summary)}\n`);
      return summary.stopped && controller.signal.aborted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSigint);
      await transport.close();
    }
  },
});
