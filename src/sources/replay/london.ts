// London half-hourly replay: "LCLid,tstp,energy_kwh_hh" rows (Low Carbon London, UK Power Networks).
// tstp is GMT ("2013-01-01 00:00:00[.0000000]", the START of the half hour) → ts "2013-01-01T00:00:00Z".

import type { LineFile } from '../io/lines.ts';
import { type FileStats, type SourceMessage, utf8 } from '../source.ts';
import { csvRows, meterRow } from './csv-rows.ts';
import { meterState, type ReplayState } from './replay-source.ts';

const TSTP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.0*)?$/;

const LAYOUT = {
  what: 'London half-hourly',
  columns: {
    id: ['LCLid'],
    tstp: ['tstp', 'DateTime'],
    kwh: ['energy_kwh_hh', 'energy(kWh/hh)', 'KWH/hh (per half hour)'],
  },
  fallback: { id: 0, tstp: 1, kwh: 2 },
};

const NAMES = { id: 'LCLid', time: 'tstp', timeForm: 'YYYY-MM-DD hh:mm:ss', value: 'energy_kwh_hh' };

export function parseLondon(
  file: LineFile,
  stats: FileStats,
  state: ReplayState = new Map(),
): AsyncGenerator<SourceMessage[]> {
  return csvRows(file, stats, LAYOUT, (f, cols, src) => {
    const r = meterRow(f, { id: cols.id, time: cols.tstp, value: cols.kwh }, TSTP, NAMES);
    if ('error' in r) return r;
    const { id, time: m, value: kwh } = r;
    const ts = `${m[1]}T${m[2]}Z`;
    const n = meterState(state, id).seq++;
    return {
      key: id,
      time: Date.parse(ts),
      value: utf8(
        `{"v":1,"meter_id":${JSON.stringify(id)},"kind":"electricity","ts":"${ts}","value":${kwh},"unit":"kWh","type":"interval","seq":${n},"src":${JSON.stringify(src)}}`,
      ),
    };
  });
}
