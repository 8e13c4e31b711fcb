import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseTraceRow, TRACE_SCHEMA } from './schema.ts';

// the shared sample data beside the project (../shared/data), as in src/sources/testing.ts
const DATA = new URL('../../../../shared/data/', import.meta.url).pathname;

describe('trace schema', () => {
  it('lists the fields of the four replayed tables exactly as the trace’s schema.csv does', async () => {
    const csv = await readFile(`${DATA}cluster-trace/google-2011/schema.csv`, 'utf8');
    for (const [table, cols] of Object.entries(TRACE_SCHEMA)) {
      const rows = csv
        .split(/\r?\n/)
        .filter((l) => l.startsWith(`${table}/`))
        .map((l) => l.split(','));
      assert.deepEqual(
        cols.map((c, i) => [String(i + 1), c.content, c.format, c.mandatory ? 'YES' : 'NO']),
        rows.map((r) => [r[1], r[2], r[3], r[4]]),
        table,
      );
    }
  });

  it('reads empty optional fields as null and BOOLEAN 0/1 as false/true', () => {
    const r = parseTraceRow('task_events', '0,2,3418309,0,4155527081,0,u,3,9,,,,1');
    assert.ok(r.ok);
    assert.deepEqual(r.values, [0, 2, 3418309, 0, 4155527081, 0, 'u', 3, 9, null, null, null, true]);
  });
});
