// The Spark-written tables of test/interop/spark_tables.py, generated once per version of that
// script (pinned pyspark + delta-spark from scripts/requirements-interop.txt) into a temp folder
// named by its hash, so later runs reuse them. Never committed.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./spark_tables.py', import.meta.url));

export interface SparkTable {
  group: string;
  name: string;
  /** the Delta table */
  delta: string;
  /** expected/<latest|vN> -> the folder of Spark's rows (table_content) */
  expected: Map<string, string>;
}

/** The folder holding the generated tables (generating them when this script's version has none yet). */
export function sparkTablesDir(): string {
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `lakestream-spark-tables-${hash}`);
  if (existsSync(join(dir, 'DONE'))) return dir;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const r = spawnSync('python3', [SCRIPT, partial], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(
      `spark_tables.py failed (pip install -r scripts/requirements-interop.txt installs pyspark and delta-spark): ${r.stderr.slice(-3000)}`,
    );
  try {
    renameSync(partial, dir);
  } catch (e) {
    // another run finished first: use its folder
    if (!existsSync(join(dir, 'DONE'))) throw e;
    rmSync(partial, { recursive: true, force: true });
  }
  // tables of earlier versions of the script are no longer needed
  for (const old of readdirSync(tmpdir()))
    if (/^lakestream-spark-tables-[0-9a-f]{16}$/.test(old) && join(tmpdir(), old) !== dir)
      rmSync(join(tmpdir(), old), { recursive: true, force: true });
  return dir;
}

export function sparkTables(dir: string, group: string): SparkTable[] {
  return readdirSync(join(dir, group))
    .sort()
    .map((name) => {
      const root = join(dir, group, name);
      const expected = new Map<string, string>();
      for (const v of readdirSync(join(root, 'expected')).sort())
        expected.set(v, join(root, 'expected', v, 'table_content'));
      return { group, name, delta: join(root, 'delta'), expected };
    });
}

/** What Spark's expected/<v>/table_version_metadata.json says of that version. */
export function versionMetadata(t: SparkTable, v: string): { version: number } {
  return JSON.parse(readFileSync(join(t.expected.get(v)!, '..', 'table_version_metadata.json'), 'utf8'));
}
