// The 100+ Spark-written golden tables (../shared/data/delta-golden): lakestream reads each one the
// reference implementation (delta-rs) reads with the same rows, and refuses the rest with an error
// naming the table and, for unsupported protocol features, the feature.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isLakestreamError, LakestreamError } from '../../src/errors.ts';
import { Lake, withDuck } from '../../src/lake/index.ts';
import { tempDir } from '../lake/helpers.ts';

const ROOT = fileURLToPath(new URL('../../../shared/data/delta-golden', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./delta_rs.py', import.meta.url));

/** Tables delta-rs reads but lakestream refuses, with the feature the refusal must name. */
const REFUSED_FEATURES: Record<string, string> = {
  'spark-variant-checkpoint': 'variantType-preview',
};

/**
 * Deletion vectors and column mapping: read alike by both (delta-rs through its query engine, see
 * delta_rs.py), where both used to refuse them or delta-rs read nulls.
 */
const DV_AND_COLUMN_MAPPING = [
  'data-reader-timestamp_ntz-id-mode',
  'data-reader-timestamp_ntz-name-mode',
  'data-skipping-basic-stats-all-types-columnmapping-id',
  'data-skipping-basic-stats-all-types-columnmapping-name',
  'dv-partitioned-with-checkpoint',
  'dv-with-columnmapping',
  'log-replay-dv-key-cases',
  'table-with-columnmapping-mode-id',
  'table-with-columnmapping-mode-name',
  'table-with-icebegCompatV2Enabled',
];

/** Tables both refuse: lakestream's error must say why (code and a phrase). */
const BOTH_REFUSE: Record<string, [string, RegExp]> = {
  'canonicalized-paths-normal-a': ['CORRUPT_TABLE', /no schemaString/],
  'canonicalized-paths-normal-b': ['CORRUPT_TABLE', /no schemaString/],
  'canonicalized-paths-special-a': ['CORRUPT_TABLE', /no schemaString/],
  'canonicalized-paths-special-b': ['CORRUPT_TABLE', /no schemaString/],
  'corrupted-last-checkpoint': ['CORRUPT_TABLE', /no schemaString/],
  'deltalog-commit-info': ['CORRUPT_TABLE', /no schemaString/],
  'update-deleted-directory': ['CORRUPT_TABLE', /no schemaString/],
  checkpoint: ['CORRUPT_TABLE', /data file checkpoint\/15 is missing/],
  'delete-re-add-same-file-different-transactions': ['CORRUPT_TABLE', /data file .*\/foo is missing/],
  'log-replay-special-characters-b': ['CORRUPT_TABLE', /data file .*special p@#h is missing/],
  'data-reader-absolute-paths-escaped-chars': ['CORRUPT_TABLE', /no metaData action/],
  'deltalog-state-reconstruction-from-checkpoint-missing-metadata': ['CORRUPT_TABLE', /no metaData action/],
  'deltalog-state-reconstruction-without-metadata': ['CORRUPT_TABLE', /no metaData action/],
  'deltalog-state-reconstruction-from-checkpoint-missing-protocol': ['CORRUPT_TABLE', /no protocol action/],
  'deltalog-state-reconstruction-without-protocol': ['CORRUPT_TABLE', /no protocol action/],
  'deltalog-invalid-protocol-version': ['UNSUPPORTED', /reader version 99/],
  'versions-not-contiguous': ['CORRUPT_TABLE', /00000000000000000001\.json is missing/],
  'no-delta-log-folder': ['NOT_A_TABLE', /not a Delta table/],
  'log-store-listFrom': ['NOT_A_TABLE', /not a Delta table/],
  'log-store-read': ['NOT_A_TABLE', /not a Delta table/],
};

/** Tables delta-rs 1.6 cannot read that lakestream reads (features it lacks, stats it cannot parse): row counts. */
const ONLY_LAKESTREAM: Record<string, number> = {
  'basic-decimal-table': 4,
  'basic-decimal-table-legacy': 4,
  'basic-with-vacuum-protocol-check-feature': 100,
  'type-widening': 2,
  'type-widening-nested': 2,
  'v2-checkpoint-json': 10,
  'v2-checkpoint-parquet': 10,
};

type Reference = Record<string, { num_rows: number; version: number } | { error: string }>;

async function readWithLakestream(
  lake: Lake,
  name: string,
  expected?: string,
): Promise<{ rows: number; diff?: number }> {
  const t = lake.table(name);
  await t.snapshot();
  return withDuck(async (conn) => {
    await t.createView(conn, 'golden');
    try {
      const rows = Number((await conn.runAndReadAll('SELECT count(*) FROM golden')).getRows()[0][0]);
      if (!expected) return { rows };
      const e = `read_parquet('${expected}')`;
      const diff = Number(
        (
          await conn.runAndReadAll(
            `SELECT count(*) FROM ((SELECT * FROM golden EXCEPT ALL SELECT * FROM ${e}) UNION ALL (SELECT * FROM ${e} EXCEPT ALL SELECT * FROM golden))`,
          )
        ).getRows()[0][0],
      );
      return { rows, diff };
    } finally {
      await conn.run('DROP VIEW IF EXISTS golden');
    }
  });
}

describe('the Spark golden tables', () => {
  let out = '';
  let reference: Reference = {};
  let lake: Lake;

  before(async () => {
    assert.ok(existsSync(ROOT), `the golden tables are at ${ROOT}`);
    out = await tempDir();
    const r = spawnSync('python3', [SCRIPT, 'dump-all', ROOT, out], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    assert.equal(r.status, 0, r.stderr);
    reference = JSON.parse(r.stdout);
    lake = await Lake.open(`file:${ROOT}`);
  });

  test('are all found (100 directories, 110 tables with the nested ones)', () => {
    assert.equal(Object.keys(reference).length, 110);
  });

  test('delta-rs reads each with the same rows as lakestream, unless lakestream refuses a named feature', async () => {
    const failures: string[] = [];
    const same: string[] = [];
    for (const [name, ref] of Object.entries(reference)) {
      if ('error' in ref) continue;
      const feature = REFUSED_FEATURES[name];
      try {
        const got = await readWithLakestream(lake, name, join(out, `${name.replaceAll('/', '__')}.parquet`));
        if (feature) failures.push(`${name}: read, but should refuse feature ${feature}`);
        else if (got.rows !== ref.num_rows || got.diff !== 0)
          failures.push(`${name}: ${got.rows} rows (delta-rs ${ref.num_rows}), ${got.diff} rows differ`);
        else same.push(name);
      } catch (e) {
        if (
          feature &&
          isLakestreamError(e, 'UNSUPPORTED') &&
          e.message.includes(`"${feature}"`) &&
          e.message.includes(name)
        )
          continue;
        failures.push(`${name}: ${(e as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(same.length >= 80, `${same.length} tables read alike`);
    assert.deepEqual(
      DV_AND_COLUMN_MAPPING.filter((t) => !same.includes(t)),
      [],
    );
  });

  test('the tables delta-rs refuses are refused with a reason naming the table, or read where lakestream can', async () => {
    const failures: string[] = [];
    for (const [name, ref] of Object.entries(reference)) {
      if (!('error' in ref)) continue;
      const want = BOTH_REFUSE[name];
      const rows = ONLY_LAKESTREAM[name];
      if (want === undefined && rows === undefined) {
        failures.push(`${name}: no expectation (delta-rs: ${ref.error.slice(0, 80)})`);
        continue;
      }
      try {
        const got = await readWithLakestream(lake, name);
        if (want) failures.push(`${name}: read ${got.rows} rows, should refuse with ${want[0]}`);
        else if (got.rows !== rows) failures.push(`${name}: ${got.rows} rows, expected ${rows}`);
      } catch (e) {
        if (!want) failures.push(`${name}: ${(e as Error).message}`);
        else if (
          !(e instanceof LakestreamError) ||
          e.code !== want[0] ||
          !want[1].test(e.message) ||
          !e.message.includes(name)
        )
          failures.push(`${name}: refused with ${(e as LakestreamError).code}: ${(e as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
