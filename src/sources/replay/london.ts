// London half-hourly replay: "LCLid,tstp,energy_kwh_hh" rows (Low Carbon London, UK Power Networks).
// tstp is GMT ("2013-01-01 00:00:00[.0000000]", the START of the half hour) → ts "2013-01-01T00:00:00Z".

import { columnIndex, splitCsv } from '../csv.ts';
import { type LineFile, lineText } from '../io/lines.ts';
import { type FileStats, type SourceMessage, unparsedMessage, utf8 } from '../source.ts';
import { meterState, type ReplayState } from './replay-source.ts';

const TSTP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.0*)?$/;

export async function* parseLondon(
  file: LineFile,
  stats: FileStats,
  state: ReplayState = new Map(),
): AsyncGenerator<SourceMessage[]> {
  let line = 0;
  let cols: Record<string, number> | undefined;
  for await (const batch of file.batches()) {
    const out: SourceMessage[] = [];
    for (const raw of batch) {
      line++;
      const text = lineText(raw);
      const src = `${file.label}:${line}`;
      if (cols === undefined) {
        const c = columnIndex(splitCsv(text), {
          id: ['LCLid'],
          tstp: ['tstp', 'DateTime'],
          kwh: ['energy_kwh_hh', 'energy(kWh/hh)', 'KWH/hh (per half hour)'],
        });
        if (typeof c === 'string') {
          out.push(unparsedMessage(src, text, `not a London half-hourly header: ${c}`));
          stats.unparsed++;
          cols = { id: 0, tstp: 1, kwh: 2 }; // read on as the documented layout
        } else cols = c;
        continue;
      }
      if (text.trim() === '') continue;
      const f = splitCsv(text);
      const id = f[cols.id]?.trim();
      const m = TSTP.exec(f[cols.tstp]?.trim() ?? '');
      const kwhText = f[cols.kwh]?.trim() ?? '';
      const kwh = Number(kwhText);
      let error: string | undefined;
      if (!id) error = 'empty LCLid';
      else if (!m) error = `tstp "${f[cols.tstp] ?? ''}" is not "YYYY-MM-DD hh:mm:ss"`;
      else if (kwhText === '' || !Number.isFinite(kwh)) error = `energy_kwh_hh "${kwhText}" is not a number`;
      if (error !== undefined || !m) {
        out.push(unparsedMessage(src, text, error ?? 'bad row'));
        stats.unparsed++;
        continue;
      }
      const ts = `${m[1]}T${m[2]}Z`;
      const n = meterState(state, id!).seq++;
      out.push({
        key: id!,
        time: Date.parse(ts),
        value: utf8(
          `{"v":1,"meter_id":${JSON.stringify(id)},"kind":"electricity","ts":"${ts}","value":${kwh},"unit":"kWh","type":"interval","seq":${n},"src":${JSON.stringify(src)}}`,
        ),
      });
    }
    stats.messages += out.length;
    if (out.length) yield out;
  }
}
