// DAIAD water replay: "user.key;datetime;meter.reading;diff" rows, a cumulative register in litres
// read about hourly, dates day-first in local Europe/Madrid time. The hour repeated when DST ends
// (e.g. 30/10/2016 02:00-02:59) is resolved per meter by file order: a meter's first reading of a
// wall time in that hour is summer time (+02:00); once its wall clock repeats or goes back inside
// that hour, its readings are winter time (+01:00). `diff` is ignored: the register is the truth.

import type { LineFile } from '../io/lines.ts';
import { type FileStats, type SourceMessage, utf8 } from '../source.ts';
import { isoWithOffset, localToUtc } from '../time.ts';
import { csvRows, meterRow } from './csv-rows.ts';
import { meterState, type ReplayState } from './replay-source.ts';

export const WATER_ZONE = 'Europe/Madrid';
const DATETIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/;

const LAYOUT = {
  what: 'DAIAD water',
  separator: ';',
  columns: { id: ['user.key'], dt: ['datetime'], reg: ['meter.reading'] },
  fallback: { id: 0, dt: 1, reg: 2 },
};

const NAMES = { id: 'user.key', time: 'datetime', timeForm: 'DD/MM/YYYY hh:mm:ss', value: 'meter.reading' };

export function parseWater(
  file: LineFile,
  stats: FileStats,
  state: ReplayState = new Map(),
): AsyncGenerator<SourceMessage[]> {
  return csvRows(file, stats, LAYOUT, (f, cols, src) => {
    const r = meterRow(f, { id: cols.id, time: cols.dt, value: cols.reg }, DATETIME, NAMES);
    if ('error' in r) return r;
    const { id, time: m, value: reg } = r;
    const local = Date.UTC(+m[3], +m[2] - 1, +m[1], +m[4], +m[5], +(m[6] ?? 0));
    if (Number.isNaN(local) || new Date(local).getUTCDate() !== +m[1])
      return { error: `datetime "${f[cols.dt]}" is not a calendar date` };
    const st = meterState(state, id);
    let t = localToUtc(WATER_ZONE, local, 'earlier');
    if (t.ambiguous) {
      if (!st.folded && st.foldLocal !== undefined && local <= st.foldLocal) st.folded = true;
      st.foldLocal = local;
      if (st.folded) t = localToUtc(WATER_ZONE, local, 'later');
    } else if (st.foldLocal !== undefined && local > st.foldLocal) {
      st.foldLocal = undefined; // past the repeated hour: ready for next year's
      st.folded = false;
    }
    const ts = isoWithOffset(t.utcMs, t.offset);
    return {
      key: id,
      time: t.utcMs,
      value: utf8(
        `{"v":1,"meter_id":${JSON.stringify(id)},"kind":"water","ts":"${ts}","value":${reg},"unit":"L","type":"cumulative","seq":${st.seq++},"tz":"${WATER_ZONE}","src":${JSON.stringify(src)}}`,
      ),
    };
  });
}
