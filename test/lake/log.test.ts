// The log on disk: checkpoints every 10 commits, and clear errors for damaged or foreign tables.

import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isLakestreamError } from '../../src/errors.ts';
import { Lake } from '../../src/lake/index.ts';
import { count, READINGS, readings, tempDir } from './helpers.ts';

const pad = (v: number) => String(v).padStart(20, '0');

describe('checkpoints:', () => {
  test('every 10th commit writes a Parquet checkpoint and _last_checkpoint, and a cold reader starts from it', async () => {
    const dir = await tempDir();
    const lake = await Lake.open(`file:${dir}`);
    const t = lake.table('t');
    await t.create(READINGS);
    for (let i = 0; i < 12; i++)
      await t.write(readings(3, i * 3), {
        txn: { appId: 'app', version: i },
        removeWhere: i === 11 ? (f) => f.path.includes('nothing') : undefined,
      });
    const last = JSON.parse(await readFile(join(dir, 't/_delta_log/_last_checkpoint'), 'utf8'));
    assert.equal(last.version, 10);
    assert.equal(last.numOfAddFiles, 10);
    // Remove the commits the checkpoint covers: a cold reader must not need them.
    for (let v = 0; v <= 10; v++) await rm(join(dir, `t/_delta_log/${pad(v)}.json`));
    const cold = await Lake.open(`file:${dir}`);
    const snap = await cold.table('t').snapshot();
    assert.equal(snap.version, 12);
    assert.equal(snap.numRecords, 36);
    assert.equal(snap.txnVersions.get('app'), 11);
    assert.equal(await count(cold, 't'), 36);
    assert.deepEqual(snap.schema, (await t.snapshot()).schema);
    await assert.rejects(
      cold.table('t').snapshot(5),
      (e) => isLakestreamError(e, 'NOT_FOUND') && /no longer in the log|earliest/.test(e.message),
    );
    await lake.close();
    await cold.close();
  });
});

describe('bad input gets clear errors naming the table and file:', () => {
  async function tableWithCommits(): Promise<{ dir: string; lake: Lake }> {
    const dir = await tempDir();
    const lake = await Lake.open(`file:${dir}`);
    await lake.table('t').create(READINGS);
    await lake.table('t').write(readings(5));
    return { dir, lake };
  }

  test('a truncated commit JSON', async () => {
    const { dir } = await tableWithCommits();
    const f = join(dir, `t/_delta_log/${pad(1)}.json`);
    const text = await readFile(f, 'utf8');
    await writeFile(f, text.slice(0, text.length - 40));
    const fresh = await Lake.open(`file:${dir}`);
    await assert.rejects(
      fresh.table('t').snapshot(),
      (e) =>
        isLakestreamError(e, 'CORRUPT_TABLE') &&
        e.message.includes(`t/_delta_log/${pad(1)}.json line`) &&
        /not valid JSON/.test(e.message),
    );
  });

  test('a garbled commit JSON', async () => {
    const { dir } = await tableWithCommits();
    await writeFile(join(dir, `t/_delta_log/${pad(2)}.json`), '{"add": {"path": "x", oops}\n');
    const fresh = await Lake.open(`file:${dir}`);
    await assert.rejects(
      fresh.table('t').snapshot(),
      (e) =>
        isLakestreamError(e, 'CORRUPT_TABLE') &&
        /table t: .*00000000000000000002\.json line 1/.test(e.message),
    );
  });

  test('a missing data file', async () => {
    const { dir, lake } = await tableWithCommits();
    const [file] = (await lake.table('t').snapshot()).files;
    await rm(join(dir, 't', decodeURIComponent(file.path)));
    await assert.rejects(
      count(lake, 't'),
      (e) =>
        isLakestreamError(e, 'CORRUPT_TABLE') &&
        e.message.includes('table t') &&
        e.message.includes(decodeURIComponent(file.path)) &&
        /missing/.test(e.message),
    );
  });

  test('a protocol feature lakestream does not support is refused by name', async () => {
    const { dir } = await tableWithCommits();
    await writeFile(
      join(dir, `t/_delta_log/${pad(2)}.json`),
      `${JSON.stringify({ protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['variantType'], writerFeatures: ['variantType'] } })}\n`,
    );
    const fresh = await Lake.open(`file:${dir}`);
    await assert.rejects(
      fresh.table('t').snapshot(),
      (e) =>
        isLakestreamError(e, 'UNSUPPORTED') && /"variantType"/.test(e.message) && /table t/.test(e.message),
    );
  });

  test('a writer feature lakestream cannot keep refuses writes but not reads', async () => {
    const { dir } = await tableWithCommits();
    await writeFile(
      join(dir, `t/_delta_log/${pad(2)}.json`),
      `${JSON.stringify({ protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['identityColumns'] } })}\n`,
    );
    const fresh = await Lake.open(`file:${dir}`);
    assert.equal((await fresh.table('t').snapshot()).numRecords, 5);
    await assert.rejects(
      fresh.table('t').write(readings(1)),
      (e) => isLakestreamError(e, 'UNSUPPORTED') && /"identityColumns"/.test(e.message),
    );
  });

  test('a path that is not a table', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'hello');
    const lake = await Lake.open(`file:${dir}`);
    await assert.rejects(
      lake.table('nothing/here').snapshot(),
      (e) => isLakestreamError(e, 'NOT_A_TABLE') && /nothing\/here/.test(e.message),
    );
    assert.deepEqual(await lake.listTables(), []);
  });

  test('rows that do not fit the schema name the table, row and column', async () => {
    const { lake } = await tableWithCommits();
    await assert.rejects(
      lake.table('t').write([{ meter_id: null, ts: new Date(), day: '2013-01-01' }]),
      (e) => isLakestreamError(e, 'BAD_INPUT') && /table t: row 0: column "meter_id"/.test(e.message),
    );
    await assert.rejects(
      lake.table('t').write([{ meter_id: 'm', ts: 'yesterday', day: '2013-01-01' }]),
      (e) => isLakestreamError(e, 'BAD_INPUT') && /column "ts"/.test(e.message),
    );
    assert.equal((await lake.table('t').snapshot()).version, 1);
  });
});
