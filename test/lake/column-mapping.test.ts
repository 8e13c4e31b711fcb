// Column mapping by hand-written logs: in `id` mode a column is found by its Parquet field id even
// when the file names it otherwise (as a table converted from Iceberg does); in `name` mode by its
// physical name, partition values too.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Lake, withDuck } from '../../src/lake/index.ts';
import { tempDir } from './helpers.ts';

function field(name: string, type: string, id: number, physical: string) {
  return {
    name,
    type,
    nullable: true,
    metadata: { 'delta.columnMapping.id': id, 'delta.columnMapping.physicalName': physical },
  };
}

/** A one-file table whose Parquet file has columns `whatever` (field id 7) and `other` (field id 8). */
async function table(mode: 'id' | 'name', partitioned: boolean): Promise<Lake> {
  const dir = await tempDir();
  const sub = partitioned ? 'x/' : '';
  await mkdir(join(dir, 't/_delta_log'), { recursive: true });
  await mkdir(join(dir, 't', sub), { recursive: true });
  await withDuck((conn) =>
    conn.run(
      `COPY (SELECT 41::BIGINT AS whatever, 'x' AS other, 7::BIGINT AS "col-n") TO '${join(dir, 't', sub, 'f.parquet')}' (FORMAT parquet, FIELD_IDS {whatever: 7, other: 8, "col-n": 99})`,
    ),
  );
  const schema = [field('n', 'long', 7, 'col-n'), field('s', 'string', 8, 'col-s')];
  if (partitioned) schema.push(field('p', 'string', 9, 'col-p'));
  const actions = [
    { protocol: { minReaderVersion: 2, minWriterVersion: 5 } },
    {
      metaData: {
        id: 'c0ffee00-0000-0000-0000-000000000000',
        format: { provider: 'parquet', options: {} },
        schemaString: JSON.stringify({ type: 'struct', fields: schema }),
        partitionColumns: partitioned ? ['p'] : [],
        configuration: { 'delta.columnMapping.mode': mode, 'delta.columnMapping.maxColumnId': '9' },
      },
    },
    {
      add: {
        path: `${sub}f.parquet`,
        partitionValues: partitioned ? { 'col-p': 'v' } : {},
        size: 1,
        modificationTime: 0,
        dataChange: true,
      },
    },
  ];
  await writeFile(
    join(dir, 't/_delta_log/00000000000000000000.json'),
    `${actions.map((a) => JSON.stringify(a)).join('\n')}\n`,
  );
  return Lake.open(`file:${dir}`);
}

describe('column mapping', () => {
  test('id mode finds columns by field id, whatever the file calls them', async () => {
    const lake = await table('id', false);
    assert.deepEqual((await lake.query('SELECT n, s FROM t')).rows, [{ n: 41, s: 'x' }]);
    await lake.close();
  });

  test('id mode with partition values keyed by physical name', async () => {
    const lake = await table('id', true);
    assert.deepEqual((await lake.query('SELECT n, s, p FROM t')).rows, [{ n: 41, s: 'x', p: 'v' }]);
    await lake.close();
  });

  test('name mode reads physical names: a column the file does not have is null', async () => {
    const lake = await table('name', true);
    assert.deepEqual((await lake.query('SELECT n, s, p FROM t')).rows, [{ n: 7, s: null, p: 'v' }]);
    await lake.close();
  });
});
