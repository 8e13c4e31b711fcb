// The loop under the CSV replay parsers (London, UCI, water): a header that names the columns, then
// one message per data row; a row that cannot be read goes out unparsed, naming its file and line.

import { columnIndex, splitCsv } from '../csv.ts';
import { type LineFile, lineText } from '../io/lines.ts';
import { type FileStats, type SourceMessage, unparsedMessage } from '../source.ts';

/** A replay file's columns: what its header may call each, and where they are when it names none. */
export interface CsvLayout<C extends string> {
  /** what the file is, for an unrecognised header: 'London half-hourly' */
  what: string;
  separator?: string;
  /** column → the header names it may have */
  columns: Record<C, string[]>;
  /** the documented layout, read on with after a header that is not recognised */
  fallback: Record<C, number>;
}

/** What a row parser makes of a data row: a message, an error (the row goes out unparsed), or skipped. */
export type RowResult = SourceMessage | { error: string } | 'skipped';

/** What a meter file calls its id, time and value columns, and the form its time takes (for errors). */
export interface MeterRowNames {
  id: string;
  time: string;
  timeForm: string;
  value: string;
}

/**
 * A meter row's id, its time matched against `pattern` and its number, each from the column at `at`;
 * or the error that names the first of them that is empty or not of its form.
 */
export function meterRow(
  fields: string[],
  at: { id: number; time: number; value: number },
  pattern: RegExp,
  names: MeterRowNames,
): { id: string; time: RegExpExecArray; value: number } | { error: string } {
  const id = fields[at.id]?.trim();
  const time = pattern.exec(fields[at.time]?.trim() ?? '');
  const valueText = fields[at.value]?.trim() ?? '';
  const value = Number(valueText);
  if (!id) return { error: `empty ${names.id}` };
  if (!time) return { error: `${names.time} "${fields[at.time] ?? ''}" is not "${names.timeForm}"` };
  if (valueText === '' || !Number.isFinite(value))
    return { error: `${names.value} "${valueText}" is not a number` };
  return { id, time, value };
}

/**
 * Parses a CSV replay file: the first line is its header; each non-blank line after it goes to
 * `row` with its fields and its source (`file:line`). Counts unparsed, skipped and sent rows into `stats`.
 */
export async function* csvRows<C extends string>(
  file: LineFile,
  stats: FileStats,
  layout: CsvLayout<C>,
  row: (fields: string[], cols: Record<C, number>, src: string) => RowResult,
): AsyncGenerator<SourceMessage[]> {
  let line = 0;
  let cols: Record<C, number> | undefined;
  for await (const batch of file.batches()) {
    const out: SourceMessage[] = [];
    for (const raw of batch) {
      line++;
      const text = lineText(raw);
      const src = `${file.label}:${line}`;
      if (cols === undefined) {
        const c = columnIndex(splitCsv(text, layout.separator), layout.columns);
        if (typeof c === 'string') {
          out.push(unparsedMessage(src, text, `not a ${layout.what} header: ${c}`));
          stats.unparsed++;
          cols = layout.fallback;
        } else cols = c as Record<C, number>;
        continue;
      }
      if (text.trim() === '') continue;
      const r = row(splitCsv(text, layout.separator), cols, src);
      if (r === 'skipped') stats.skipped++;
      else if ('error' in r) {
        out.push(unparsedMessage(src, text, r.error));
        stats.unparsed++;
      } else out.push(r);
    }
    stats.messages += out.length;
    if (out.length) yield out;
  }
}
