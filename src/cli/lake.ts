// `lakestream lake ls|history|show|import|optimize|vacuum`: inspect and maintain the lake's Delta tables.

import { engineOption, engineSetting, lakeOption, lakeUrl } from '../config/settings.ts';
import { openEngine, parseEngine } from '../engine/index.ts';
import type { SparkEngine } from '../engine/spark/index.ts';
import { LakestreamError } from '../errors.ts';
import { importCsv, Lake } from '../lake/index.ts';
import { checkCsvFile } from '../sources/check-format.ts';
import { defineCommand, jsonOption, numberOption, quietOption } from './command.ts';
import { bar, formatCount, ProgressLine } from './progress.ts';
import { missingLakeDir } from './read-only.ts';
import { formatTable } from './sql.ts';
import { didYouMean } from './suggest.ts';

const SUBCOMMANDS = ['ls', 'history', 'show', 'import', 'optimize', 'vacuum'] as const;
/** Delta's own default: a week */
const MIN_RETENTION_HOURS = 168;

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function needTable(positionals: string[], sub: string): string {
  const t = positionals[1];
  if (!t)
    throw new LakestreamError(
      'BAD_ARGUMENT',
      `lake ${sub}: give a table path — e.g. "lakestream lake ${sub} meters/gold/daily"`,
    );
  return t;
}

export default defineCommand({
  name: 'lake',
  summary: 'inspect and maintain Delta tables: ls, history, show, import, optimize, vacuum',
  usage: `lake ls [--lake URL]
       lake history <table> [--lake URL]
       lake show <table> [--version N] [--limit N] [--lake URL]
       lake import <file.csv[.gz]> <table> [--partition-by COL] [--lake URL]
       lake optimize <table> [--target-size MB] [--engine duckdb|spark[://HOST:PORT]] [--lake URL]
       lake vacuum <table> [--retention-hours H] [--delete] [--lake URL]`,
  description: `
Tables are paths under the lake (e.g. meters/gold/daily), each a Delta table readable by Spark and
delta-rs. ls lists every table; history lists its commits, newest first; show prints the schema,
the files and the first rows (--version N reads an earlier version: time travel).
import loads a CSV (gzip-compressed too) into a table: the schema is inferred, the file streamed.
optimize compacts small files (same rows, new files): lakestream's own compaction, or with
--engine spark Spark's OPTIMIZE (Delta Lake's bin-packing, committed by Spark; lakestream reads the
result like any table). vacuum lists files no version within the retention needs, and deletes them
only with --delete (below a week of retention only with --force).

Examples:
  lakestream lake ls
  lakestream lake history meters/gold/daily --json
  lakestream lake show meters/gold/monthly --limit 5
  lakestream lake vacuum meters/bronze/readings`,
  options: {
    ...lakeOption,
    ...engineOption,
    version: { type: 'string', value: 'N', help: 'show: read this version instead of the latest' },
    limit: { type: 'string', value: 'N', help: 'show: rows to print', default: '10' },
    'partition-by': {
      type: 'string',
      value: 'COL',
      multiple: true,
      help: 'import: partition the new table by this column',
    },
    'target-size': { type: 'string', value: 'MB', help: 'optimize: target file size in MiB', default: '128' },
    'retention-hours': {
      type: 'string',
      value: 'H',
      help: 'vacuum: keep files needed by versions younger than this',
      default: '168',
    },
    delete: { type: 'boolean', help: 'vacuum: really delete (default: only list what would go)' },
    force: {
      type: 'boolean',
      help: `vacuum: allow --delete with --retention-hours below ${168} (nothing else may use the table)`,
    },
    ...jsonOption,
    ...quietOption,
  },
  async run({ values, positionals }) {
    const sub = positionals[0] as (typeof SUBCOMMANDS)[number] | undefined;
    if (!sub || !SUBCOMMANDS.includes(sub))
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `${sub ? `unknown subcommand "${sub}"` : 'give a subcommand'}: ${SUBCOMMANDS.join(', ')} — ${sub ? `${didYouMean(sub, SUBCOMMANDS)} ` : ''}see "lakestream lake --help"`.replace(
          '—  ',
          '— ',
        ),
      );
    const url = lakeUrl(values.lake);
    // ls, history and show only read: a lake that is not there is an error, never created
    const missing = sub === 'import' ? undefined : missingLakeDir(url);
    if (missing)
      throw new LakestreamError(
        'NOT_FOUND',
        `no lake at ${missing} — check --lake, or run "lakestream demo" (or stream) to make one`,
      );
    const lake = await Lake.open(url);
    const out = (text: string, json: unknown) =>
      console.log(values.json ? JSON.stringify(json, jsonValue, 2) : text);
    try {
      if (sub === 'ls') {
        const rows = [];
        for (const path of await lake.listTables()) {
          try {
            const s = await lake.table(path).snapshot();
            rows.push({
              table: path,
              version: s.version,
              files: s.files.length,
              rows: s.numRecords ?? null,
              size: s.sizeInBytes,
              updated: s.timestamp ? new Date(s.timestamp).toISOString() : null,
            });
          } catch (e) {
            rows.push({ table: path, error: (e as Error).message });
          }
        }
        out(
          rows.length === 0
            ? `no tables in ${lake.url}`
            : formatTable(
                ['table', 'version', 'files', 'rows', 'size', 'last commit (UTC)'],
                rows.map((r) =>
                  'error' in r
                    ? [r.table, 'error', r.error ?? '', '', '', '']
                    : [
                        r.table,
                        String(r.version),
                        formatCount(r.files),
                        r.rows === null ? '?' : formatCount(r.rows),
                        bytes(r.size),
                        r.updated ? when(Date.parse(r.updated)) : '',
                      ],
                ),
              ),
          rows,
        );
        return 0;
      }
      if (sub === 'history') {
        const t = needTable(positionals, sub);
        const h = await lake.table(t).history();
        out(
          formatTable(
            ['version', 'time (UTC)', 'operation', 'parameters'],
            h.map((e) => [
              String(e.version),
              when(e.timestamp),
              e.operation,
              e.operationParameters ? JSON.stringify(e.operationParameters) : '',
            ]),
          ),
          h.map((e) => ({ ...e, timestamp: new Date(e.timestamp).toISOString() })),
        );
        return 0;
      }
      if (sub === 'show') {
        const t = needTable(positionals, sub);
        const version =
          values.version === undefined
            ? undefined
            : numberOption('version', values.version, 0, { integer: true, min: 0 });
        const limit = numberOption('limit', values.limit, 10, { integer: true, min: 0 });
        const table = lake.table(t);
        const s = await table.snapshot(version);
        const { withDuck } = await import('../lake/index.ts');
        const sample = await withDuck(async (conn) => {
          const view = `show_${process.pid}`;
          await table.createView(conn, view, s.version);
          try {
            const r = await conn.runAndReadAll(`SELECT * FROM "${view}" LIMIT ${limit}`);
            return { columns: r.columnNames(), rows: r.getRowObjectsJS() };
          } finally {
            await conn.run(`DROP VIEW IF EXISTS "${view}"`);
          }
        });
        const lines = [
          `table ${t} at version ${s.version} (${when(s.timestamp || Date.now())} UTC)`,
          `  ${formatCount(s.files.length)} files, ${s.numRecords === undefined ? '?' : formatCount(s.numRecords)} rows, ${bytes(s.sizeInBytes)}`,
          `  protocol reader ${s.protocol.minReaderVersion} / writer ${s.protocol.minWriterVersion}; partitioned by [${s.partitionColumns.join(', ')}]`,
          ...(s.metadata.description ? [`  ${s.metadata.description}`] : []),
          '',
          'schema:',
          ...s.schema.map(
            (f) =>
              `  ${f.name.padEnd(24)} ${f.type}${f.nullable === false ? ' not null' : ''}${s.partitionColumns.includes(f.name) ? ' (partition)' : ''}`,
          ),
        ];
        if (s.txnVersions.size > 0) {
          lines.push('', 'stream versions (txn):');
          for (const [app, v] of s.txnVersions) lines.push(`  ${app}: ${v}`);
        }
        lines.push(
          '',
          `first ${Math.min(limit, sample.rows.length)} rows:`,
          formatTable(
            sample.columns,
            sample.rows.map((r) => sample.columns.map((c) => cell(r[c]))),
          ),
        );
        out(lines.join('\n'), {
          table: t,
          version: s.version,
          schema: s.schema,
          partitionColumns: s.partitionColumns,
          files: s.files.length,
          rows: s.numRecords,
          size: s.sizeInBytes,
          txn: Object.fromEntries(s.txnVersions),
          sample: sample.rows,
        });
        return 0;
      }
      if (sub === 'import') {
        const file = positionals[1];
        const t = positionals[2];
        if (!file || !t)
          throw new LakestreamError(
            'BAD_ARGUMENT',
            'lake import: give a CSV file and a table — e.g. "lakestream lake import data.csv.gz raw/london"',
          );
        await checkCsvFile(file);
        const progress = new ProgressLine();
        const started = Date.now();
        const r = await importCsv(lake.table(t), file, {
          partitionBy: values['partition-by'],
          onProgress: (p) => {
            if (!values.quiet)
              progress.update(`importing ${file} ${p.fraction === undefined ? '' : bar(p.fraction)}`);
          },
        });
        if (!values.quiet)
          progress.done(
            `imported ${file}: ${formatCount(r.rows)} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
        out(
          `${t}: ${r.result.status}${'version' in r.result ? ` version ${r.result.version}` : ''}, ${formatCount(r.rows)} rows in ${r.files} files\nschema: ${r.schema.map((f) => `${f.name} ${f.type}`).join(', ')}`,
          r,
        );
        return r.result.status === 'committed' ? 0 : 1;
      }
      if (sub === 'optimize') {
        const t = needTable(positionals, sub);
        const mb = numberOption('target-size', values['target-size'], 128, { min: 0.001 });
        const table = lake.table(t);
        const before = await table.snapshot();
        const engine = engineSetting(values.engine);
        if (parseEngine(engine).name === 'spark') {
          const spark = await openEngine(engine, lake.url);
          try {
            const r = await (spark as SparkEngine).optimize(t);
            const after = await table.snapshot();
            out(
              after.version === before.version
                ? `${t}: nothing to compact (${before.files.length} files; Spark's OPTIMIZE)`
                : `${t}: ${before.files.length} files -> ${after.files.length} files at version ${after.version} (Spark's OPTIMIZE: ${r.removed} removed, ${r.added} added; ${formatCount(after.numRecords ?? 0)} rows)`,
              {
                status: 'committed',
                engine: spark.address,
                ...r,
                filesBefore: before.files.length,
                filesAfter: after.files.length,
                version: after.version,
                rows: after.numRecords ?? null,
              },
            );
            return 0;
          } finally {
            await spark.close();
          }
        }
        const res = await table.optimize({ targetFileSize: Math.round(mb * 1024 * 1024) });
        const after = await table.snapshot();
        out(
          res.status === 'committed'
            ? after.version === before.version
              ? `${t}: nothing to compact (${before.files.length} files)`
              : `${t}: ${before.files.length} files -> ${after.files.length} files at version ${after.version}`
            : `${t}: ${res.status}${'reason' in res ? ` (${res.reason})` : ''}`,
          { ...res, filesBefore: before.files.length, filesAfter: after.files.length },
        );
        return res.status === 'conflict' ? 1 : 0;
      }
      const t = needTable(positionals, sub);
      const hours = numberOption('retention-hours', values['retention-hours'], 168, { min: 0 });
      // files younger than a week may belong to a writer still committing (a running stream, an
      // import) or to a reader's snapshot: deleting them is refused without --force, as Delta does
      if (values.delete && hours < MIN_RETENTION_HOURS && !values.force)
        throw new LakestreamError(
          'BAD_ARGUMENT',
          `--retention-hours ${hours} with --delete could remove files a running writer or reader still needs — keep ≥ ${MIN_RETENTION_HOURS}, or add --force when nothing else uses the table`,
        );
      const paths = await lake.table(t).vacuum({ retentionHours: hours, dryRun: !values.delete });
      out(
        paths.length === 0
          ? `${t}: nothing to vacuum (retention ${hours} h)`
          : `${values.delete ? 'deleted' : 'would delete (dry run; add --delete)'} ${paths.length} files:\n${paths.map((p) => `  ${p}`).join('\n')}`,
        { dryRun: !values.delete, paths },
      );
      return 0;
    } finally {
      await lake.close();
    }
  },
});

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v, jsonValue);
  return String(v);
}

/** JSON.stringify replacer: bigint as number (or string when too big). */
export function jsonValue(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint')
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}
