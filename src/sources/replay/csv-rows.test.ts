// The loop under the CSV replay parsers: header, blank lines, unparsed and skipped rows, each named
// by its file and line.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openLineFiles } from '../io/lines.ts';
import { type FileStats, utf8 } from '../source.ts';
import { fixture, json, take } from '../testing.ts';
import { csvRows } from './csv-rows.ts';

const LAYOUT = { what: 'test', columns: { id: ['id'], n: ['n'] }, fallback: { id: 0, n: 1 } };
const stats = (): FileStats => ({ label: 'x', messages: 0, unparsed: 0, skipped: 0 });

/** A row parser: id and n go out as they are; n = 0 is skipped; n not a number is an error. */
function parse(f: string[], cols: { id: number; n: number }, src: string) {
  const n = Number(f[cols.n]);
  if (!Number.isFinite(n)) return { error: `n "${f[cols.n]}" is not a number` };
  if (n === 0) return 'skipped' as const;
  return { key: f[cols.id], value: utf8(JSON.stringify({ id: f[cols.id], n, src })) };
}

describe('CSV replay rows', () => {
  it('finds the columns by the header, whatever their order, and names each row by file and line (blank lines count)', async () => {
    const [file] = await openLineFiles(await fixture('rows.csv', 'n,id\n1,a\n\n2,b\n'));
    const st = stats();
    const ms = (await take(csvRows(file, st, LAYOUT, parse))).map(json);
    assert.deepEqual(ms, [
      { id: 'a', n: 1, src: 'rows.csv:2' },
      { id: 'b', n: 2, src: 'rows.csv:4' },
    ]);
    assert.deepEqual([st.messages, st.unparsed, st.skipped], [2, 0, 0]);
  });

  it('sends an unknown header and a bad row as unparsed, reads on with the documented layout, and counts skipped rows', async () => {
    const [file] = await openLineFiles(await fixture('odd.csv', 'meter,value\na,1\nb,x\nc,0\n'));
    const st = stats();
    const ms = (await take(csvRows(file, st, LAYOUT, parse))).map(json);
    assert.deepEqual(ms, [
      {
        v: 1,
        src: 'odd.csv:1',
        unparsed: 'meter,value',
        error: 'not a test header: no column id in header "meter,value"',
      },
      { id: 'a', n: 1, src: 'odd.csv:2' },
      { v: 1, src: 'odd.csv:3', unparsed: 'b,x', error: 'n "x" is not a number' },
    ]);
    assert.deepEqual([st.messages, st.unparsed, st.skipped], [3, 2, 1]);
  });
});
