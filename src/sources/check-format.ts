// Every replayed file is checked for its format before anything is sent: its first lines go through
// the source's own parser, and a file whose header is not the source's, or none of whose first rows
// parse (a PNG, random text, the London daily file given as half-hourly), is refused with its
// file:line, what was found and the columns the source expects.

import { LakestreamError } from '../errors.ts';
import { type LineFile, lineText, openLineFiles } from './io/lines.ts';
import type { FileParser } from './replay/replay-source.ts';
import type { FileStats, SourceMessage } from './source.ts';

/** What each replay source expects, as shown to the user. */
export const EXPECTED_FORMAT: Record<string, string> = {
  'london-halfhourly': 'a CSV with the header LCLid,tstp,energy_kwh_hh (London half-hourly)',
  'uci-hourly': 'a CSV with the header datetime,Global_active_power,…,Voltage,… (UCI hourly)',
  water: 'a ;-separated file with the header user.key;datetime;meter.reading;diff (DAIAD)',
  'google-2011':
    'Google 2011 trace CSV rows: the first field a time in µs, then the columns of schema.csv (task_events 13, job_events 8, task_usage 20, machine_events 6)',
};

/** Lines of each file looked at (a header and enough rows for one bad row not to decide). */
const SAMPLE_LINES = 50;

/** Binary data in the first lines: NUL bytes, or mostly bytes that are not text. */
export function looksBinary(lines: Buffer[]): boolean {
  let bad = 0;
  let total = 0;
  for (const l of lines) {
    for (const b of l) {
      total++;
      if (b === 0) return true;
      if (b < 0x09 || (b > 0x0d && b < 0x20)) bad++;
    }
  }
  return total > 0 && bad / total > 0.05;
}

/** The first lines of a file (fewer when it is shorter). */
export async function firstLines(file: LineFile, n = SAMPLE_LINES): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const batch of file.batches()) {
    for (const l of batch) {
      out.push(Buffer.from(l));
      if (out.length >= n) return out;
    }
  }
  return out;
}

function shown(line: Buffer | undefined): string {
  if (line === undefined) return '(empty file)';
  const t = lineText(line);
  return `"${t.length > 80 ? `${t.slice(0, 80)}…` : t}"`;
}

function refuse(source: string, at: string, what: string): LakestreamError {
  return new LakestreamError(
    'BAD_INPUT',
    `${at}: ${what}; --source ${source} expects ${EXPECTED_FORMAT[source] ?? 'its documented format'} — check --source (see "lakestream produce --help"), or give the file it names`,
  );
}

/** Checks one replayed file's first lines with the source's parser; throws BAD_INPUT naming file:line. */
export async function checkReplayFile(source: string, file: LineFile, parse: FileParser): Promise<void> {
  const lines = await firstLines(file);
  if (lines.length === 0 || lines.every((l) => lineText(l).trim() === ''))
    throw refuse(source, `${file.label}:1`, 'the file is empty');
  if (looksBinary(lines))
    throw refuse(source, `${file.label}:1`, 'binary data, not text (an image, an archive, a database?)');
  const sample: LineFile = {
    label: file.label,
    path: file.path,
    fraction: () => 0,
    async *batches() {
      yield lines;
    },
  };
  const stats: FileStats = { label: file.label, messages: 0, unparsed: 0, skipped: 0 };
  const messages: SourceMessage[] = [];
  for await (const batch of parse(sample, stats, new Map())) messages.push(...batch);
  const first = messages[0];
  const firstError = (m: (typeof messages)[number]) => {
    const j = JSON.parse(Buffer.from(m.value).toString('utf8')) as { src?: string; error?: string };
    return { at: j.src ?? `${file.label}:1`, error: j.error ?? 'cannot be parsed' };
  };
  // the header is the parser's first line: its refusal decides at once
  if (first?.unparsed) {
    const e = firstError(first);
    if (/header/.test(e.error))
      throw refuse(source, e.at, `${e.error.replace(/ in header ".*"$/, '')}, found ${shown(lines[0])}`);
  }
  // rows that parse, or deliberately skipped ones (UCI gaps), show the format is right
  if (messages.some((m) => !m.unparsed) || stats.skipped > 0) return;
  const bad = messages.find((m) => m.unparsed);
  if (bad) {
    const e = firstError(bad);
    throw refuse(source, e.at, `none of the first ${lines.length} lines is a row (${e.error})`);
  }
}

/** The trace's rows are parsed by the worker; here the first rows must at least look like them. */
export async function checkTraceFile(file: LineFile, columns: number, header: boolean): Promise<void> {
  const lines = await firstLines(file);
  if (looksBinary(lines))
    throw refuse(
      'google-2011',
      `${file.label}:1`,
      'binary data, not text (an image, an archive, a database?)',
    );
  const rows = lines
    .slice(header ? 1 : 0)
    .map(lineText)
    .filter((t) => t !== '');
  if (rows.length === 0) throw refuse('google-2011', `${file.label}:1`, 'no rows');
  const ok = rows.some(
    (r) => /^\d{1,17}$/.test(r.slice(0, r.indexOf(','))) && r.split(',').length === columns,
  );
  if (!ok)
    throw refuse(
      'google-2011',
      `${file.label}:${header ? 2 : 1}`,
      `none of the first ${rows.length} rows has a time and ${columns} columns, found ${shown(Buffer.from(rows[0]))}`,
    );
}

/** Opens each path (zip entries too) and checks it; the first bad file stops everything. */
export async function checkReplayPaths(source: string, paths: string[], parse: FileParser): Promise<void> {
  for (const p of paths) for (const f of await openLineFiles(p)) await checkReplayFile(source, f, parse);
}

/** `lake import`: the file must be CSV text with a header, not an image or an archive. */
export async function checkCsvFile(path: string): Promise<void> {
  let files: LineFile[];
  try {
    files = await openLineFiles(path);
  } catch (e) {
    if ((e as LakestreamError).code === 'NOT_FOUND')
      throw new LakestreamError('NOT_FOUND', `no such file: ${path} — check the path`, { cause: e });
    throw e;
  }
  for (const f of files) {
    const lines = await firstLines(f);
    const at = `${f.label}:1`;
    if (lines.length === 0)
      throw new LakestreamError('BAD_INPUT', `${at}: the file is empty — give a CSV with a header line`);
    if (looksBinary(lines))
      throw new LakestreamError(
        'BAD_INPUT',
        `${at}: binary data, not CSV text (an image, an archive, a database?) — give a CSV file (.csv or .csv.gz) with a header line`,
      );
  }
}
