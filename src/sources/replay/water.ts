// DAIAD water replay: "user.key;datetime;meter.reading;diff" rows, a cumulative register in litres
// read about hourly, dates day-first in local Europe/Madrid time. The hour repeated when DST ends
// (e.g. 30/10/2016 02:00-02:59) is resolved per meter by file order: a meter's first reading of a
// wall time in that hour is summer time (+02:00); once its wall clock repeats or goes back inside
// that hour, its readings are winter time (+01:00). `diff` is ignored: the register is the truth.

import { columnIndex, splitCsv } from '../csv.ts';
import { type LineFile, lineText } from '../io/lines.ts';
import { type FileStats, type SourceMessage, unparsedMessage, utf8 } from '../source.ts';
import { isoWithOffset, localToUtc } from '../time.ts';
import { meterState, type ReplayState } from './replay-source.ts';

export const WATER_ZONE = 'Europe/Madrid';
const DATETIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/;

export async function* parseWater(
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
        const c = columnIndex(splitCsv(text, ';'), {
          id: ['user.key'],
          dt: ['datetime'],
          reg: ['meter.reading'],
        });
        if (typeof c === 'string') {
          out.push(unparsedMessage(src, text, `not a DAIAD water header: ${c}`));
          stats.unparsed++;
          cols = { id: 0, dt: 1, reg: 2 };
        } else cols = c;
        continue;
      }
      if (text.trim() === '') continue;
      const f = splitCsv(text, ';');
      const id = f[cols.id]?.trim();
      const m = DATETIME.exec(f[cols.dt]?.trim() ?? '');
      const regText = f[cols.reg]?.trim() ?? '';
      const reg = Number(regText);
      let error: string | undefined;
      if (!id) error = 'empty user.key';
      else if (!m) error = `datetime "${f[cols.dt] ?? ''}" is not "DD/MM/YYYY hh:mm:ss"`;
      else if (regText === '' || !Number.isFinite(reg)) error = `meter.reading "${regText}" is not a number`;
      const local = m ? Date.UTC(+m[3], +m[2] - 1, +m[1], +m[4], +m[5], +(m[6] ?? 0)) : Number.NaN;
      if (error === undefined && (Number.isNaN(local) || new Date(local).getUTCDate() !== +m![1]))
        error = `datetime "${f[cols.dt]}" is not a calendar date`;
      if (error !== undefined) {
        out.push(unparsedMessage(src, text, error));
        stats.unparsed++;
        continue;
      }
      const st = meterState(state, id!);
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
      out.push({
        key: id!,
        time: t.utcMs,
        value: utf8(
          `{"v":1,"meter_id":${JSON.stringify(id)},"kind":"water","ts":"${ts}","value":${reg},"unit":"L","type":"cumulative","seq":${st.seq++},"tz":"${WATER_ZONE}","src":${JSON.stringify(src)}}`,
        ),
      });
    }
    stats.messages += out.length;
    if (out.length) yield out;
  }
}
