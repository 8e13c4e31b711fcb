// Reads a daily consumption file (London `LCLid,day,energy_kwh,n_halfhours` or the UCI daily file), gz or plain,
// streaming, into a DailyDataset. Every problem is a BAD_INPUT error naming the file and line.

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { LakestreamError } from '../../errors.ts';
import { isIsoDate } from './calendar.ts';
import { type DailyDataset, DatasetBuilder } from './dataset.ts';

export type DailyFormat = 'london-daily' | 'uci-daily';

const LONDON_HEADER = ['LCLid', 'day', 'energy_kwh', 'n_halfhours'];
const UCI_HEADER = ['datetime', 'Global_active_power'];
/** A household cannot draw ~42 kW all day; a larger daily value means the file is not in kWh (Wh, say). */
const MAX_HOUSEHOLD_KWH_PER_DAY = 1000;
const UCI_METER_ID = 'uci-sceaux';

export interface ReadDailyOptions {
  /** force a format instead of detecting it from the header */
  format?: DailyFormat;
  /** progress callback, called every 100,000 lines */
  onProgress?: (lines: number) => void;
}

async function isGzip(path: string): Promise<boolean> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LakestreamError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_INPUT',
      `cannot open ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

function detectFormat(path: string, header: string[]): DailyFormat {
  const h = header.map((c) => c.trim());
  if (h.length === LONDON_HEADER.length && h.every((c, i) => c === LONDON_HEADER[i])) return 'london-daily';
  if (UCI_HEADER.every((c, i) => h[i] === c)) return 'uci-daily';
  const energy = h.find((c) => /^energy_/i.test(c));
  if (energy && energy !== 'energy_kwh')
    throw new LakestreamError(
      'BAD_INPUT',
      `${path}:1: wrong units: column "${energy}" — lakestream reads daily energy in kWh (column energy_kwh)`,
    );
  throw new LakestreamError(
    'BAD_INPUT',
    `${path}:1: wrong columns "${h.join(',')}" — expected ${LONDON_HEADER.join(',')} (London daily) or ${UCI_HEADER.join(',')},… (UCI daily)`,
  );
}

/** Reads a daily file into a dataset. Complete days only: London n_halfhours = 48; UCI every day (gaps were filled). */
export async function readDailyFile(path: string, opts: ReadDailyOptions = {}): Promise<DailyDataset> {
  const gz = await isGzip(path);
  const raw = createReadStream(path);
  const input = gz ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const builder = new DatasetBuilder(path);
  let format: DailyFormat | undefined;
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (lineNo === 1) {
        format = opts.format ?? detectFormat(path, line.split(','));
        continue;
      }
      if (line.trim() === '') continue;
      if (opts.onProgress && lineNo % 100_000 === 0) opts.onProgress(lineNo);
      const f = line.split(',');
      const where = `${path}:${lineNo}`;
      if (format === 'london-daily') parseLondon(builder, f, where);
      else parseUci(builder, f, where);
    }
  } catch (e) {
    raw.destroy();
    if (e instanceof LakestreamError) throw e;
    throw new LakestreamError('BAD_INPUT', `${path}:${lineNo}: cannot read: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (lineNo === 0) throw new LakestreamError('BAD_INPUT', `${path}: empty file (no header line)`);
  if (builder.rows === 0)
    throw new LakestreamError('BAD_INPUT', `${path}: no data rows after the header (line 1)`);
  return builder.build();
}

function parseLondon(b: DatasetBuilder, f: string[], where: string): void {
  if (f.length !== 4)
    throw new LakestreamError(
      'BAD_INPUT',
      `${where}: expected 4 fields (LCLid,day,energy_kwh,n_halfhours), got ${f.length}`,
    );
  const [id, day, e, n] = f;
  if (id === '') throw new LakestreamError('BAD_INPUT', `${where}: empty LCLid`);
  if (!isIsoDate(day))
    throw new LakestreamError('BAD_INPUT', `${where}: day "${day}" is not a date YYYY-MM-DD`);
  const kwh = Number(e);
  if (e.trim() === '' || !Number.isFinite(kwh) || kwh < 0)
    throw new LakestreamError('BAD_INPUT', `${where}: energy_kwh "${e}" is not a non-negative number`);
  if (kwh > MAX_HOUSEHOLD_KWH_PER_DAY)
    throw new LakestreamError(
      'BAD_INPUT',
      `${where}: wrong units: energy_kwh ${kwh} is more than a household uses in a day (${MAX_HOUSEHOLD_KWH_PER_DAY} kWh) — is the file in Wh?`,
    );
  const hh = Number(n);
  if (!Number.isInteger(hh) || hh < 0 || hh > 50)
    throw new LakestreamError(
      'BAD_INPUT',
      `${where}: n_halfhours "${n}" is not a count of half-hours (0-50)`,
    );
  b.add(id, day, kwh, hh === 48, where);
}

function parseUci(b: DatasetBuilder, f: string[], where: string): void {
  const [day, gap] = f;
  if (!isIsoDate(day ?? ''))
    throw new LakestreamError('BAD_INPUT', `${where}: datetime "${day}" is not a date YYYY-MM-DD`);
  const sum = Number(gap);
  if (gap === undefined || gap.trim() === '' || !Number.isFinite(sum) || sum < 0)
    throw new LakestreamError(
      'BAD_INPUT',
      `${where}: Global_active_power "${gap}" is not a non-negative number`,
    );
  // Global_active_power sums minute-averaged kW over the day's minutes: / 60 gives kWh.
  b.add(UCI_METER_ID, day, sum / 60, true, where);
}
