// UCI hourly replay (one house in Sceaux): Global_active_power is the SUM of the hour's minute-average
// kW, so the hour's energy is Global_active_power / 60 kWh. Meter "UCI-SCEAUX", fixed zone UTC
// (the series has 24 hours on every day). Hours with Voltage = 0 are gaps in the measurement (every
// column is 0): they are skipped and counted, never sent as 0 kWh, so a day with a gap shows as
// incomplete and its total is the sum of the hours that were measured.

import { columnIndex, splitCsv } from '../csv.ts';
import { type LineFile, lineText } from '../io/lines.ts';
import { type FileStats, type SourceMessage, unparsedMessage, utf8 } from '../source.ts';
import { meterState, type ReplayState } from './replay-source.ts';

export const UCI_METER_ID = 'UCI-SCEAUX';
const DATETIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/;

export async function* parseUci(
  file: LineFile,
  stats: FileStats,
  state: ReplayState = new Map(),
): AsyncGenerator<SourceMessage[]> {
  let line = 0;
  const meter = meterState(state, UCI_METER_ID);
  let cols: Record<string, number> | undefined;
  stats.skipReason = 'hours with Voltage = 0: gaps in the measurement';
  for await (const batch of file.batches()) {
    const out: SourceMessage[] = [];
    for (const raw of batch) {
      line++;
      const text = lineText(raw);
      const src = `${file.label}:${line}`;
      if (cols === undefined) {
        const c = columnIndex(splitCsv(text), {
          dt: ['datetime'],
          gap: ['Global_active_power'],
          volt: ['Voltage'],
        });
        if (typeof c === 'string') {
          out.push(unparsedMessage(src, text, `not a UCI hourly header: ${c}`));
          stats.unparsed++;
          cols = { dt: 0, gap: 1, volt: 3 };
        } else cols = c;
        continue;
      }
      if (text.trim() === '') continue;
      const f = splitCsv(text);
      const m = DATETIME.exec(f[cols.dt]?.trim() ?? '');
      const gap = Number(f[cols.gap]);
      const volt = Number(f[cols.volt]);
      let error: string | undefined;
      if (!m) error = `datetime "${f[cols.dt] ?? ''}" is not "YYYY-MM-DD hh:mm:ss"`;
      else if (f[cols.gap] === undefined || f[cols.gap].trim() === '' || !Number.isFinite(gap))
        error = `Global_active_power "${f[cols.gap] ?? ''}" is not a number`;
      else if (!Number.isFinite(volt)) error = `Voltage "${f[cols.volt] ?? ''}" is not a number`;
      if (error !== undefined || !m) {
        out.push(unparsedMessage(src, text, error ?? 'bad row'));
        stats.unparsed++;
        continue;
      }
      if (volt === 0) {
        stats.skipped++;
        continue;
      }
      const ts = `${m[1]}T${m[2]}Z`;
      out.push({
        key: UCI_METER_ID,
        time: Date.parse(ts),
        value: utf8(
          `{"v":1,"meter_id":"${UCI_METER_ID}","kind":"electricity","ts":"${ts}","value":${gap / 60},"unit":"kWh","type":"interval","seq":${meter.seq++},"tz":"UTC","src":${JSON.stringify(src)}}`,
        ),
      });
    }
    stats.messages += out.length;
    if (out.length) yield out;
  }
}
