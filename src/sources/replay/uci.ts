// UCI hourly replay (one house in Sceaux): Global_active_power is the SUM of the hour's minute-average
// kW, so the hour's energy is Global_active_power / 60 kWh. Meter "UCI-SCEAUX", fixed zone UTC
// (the series has 24 hours on every day). Hours with Voltage = 0 are gaps in the measurement (every
// column is 0): they are skipped and counted, never sent as 0 kWh, so a day with a gap shows as
// incomplete and its total is the sum of the hours that were measured.

import type { LineFile } from '../io/lines.ts';
import { type FileStats, type SourceMessage, utf8 } from '../source.ts';
import { csvRows } from './csv-rows.ts';
import { meterState, type ReplayState } from './replay-source.ts';

export const UCI_METER_ID = 'UCI-SCEAUX';
const DATETIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/;

const LAYOUT = {
  what: 'UCI hourly',
  columns: { dt: ['datetime'], gap: ['Global_active_power'], volt: ['Voltage'] },
  fallback: { dt: 0, gap: 1, volt: 3 },
};

export function parseUci(
  file: LineFile,
  stats: FileStats,
  state: ReplayState = new Map(),
): AsyncGenerator<SourceMessage[]> {
  const meter = meterState(state, UCI_METER_ID);
  stats.skipReason = 'hours with Voltage = 0: gaps in the measurement';
  return csvRows(file, stats, LAYOUT, (f, cols, src) => {
    const m = DATETIME.exec(f[cols.dt]?.trim() ?? '');
    const gap = Number(f[cols.gap]);
    const volt = Number(f[cols.volt]);
    if (!m) return { error: `datetime "${f[cols.dt] ?? ''}" is not "YYYY-MM-DD hh:mm:ss"` };
    if (f[cols.gap] === undefined || f[cols.gap].trim() === '' || !Number.isFinite(gap))
      return { error: `Global_active_power "${f[cols.gap] ?? ''}" is not a number` };
    if (!Number.isFinite(volt)) return { error: `Voltage "${f[cols.volt] ?? ''}" is not a number` };
    if (volt === 0) return 'skipped';
    const ts = `${m[1]}T${m[2]}Z`;
    return {
      key: UCI_METER_ID,
      time: Date.parse(ts),
      value: utf8(
        `{"v":1,"meter_id":"${UCI_METER_ID}","kind":"electricity","ts":"${ts}","value":${gap / 60},"unit":"kWh","type":"interval","seq":${meter.seq++},"tz":"UTC","src":${JSON.stringify(src)}}`,
      ),
    };
  });
}
