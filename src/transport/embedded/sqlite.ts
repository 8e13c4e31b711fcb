// Opens the embedded log's SQLite file (node:sqlite, WAL mode) and creates its schema.
//
// Several processes (a producer, several stream workers) share one file: WAL lets readers run
// beside one writer, busy_timeout makes a writer wait for the lock instead of failing, and every
// write is a short BEGIN IMMEDIATE transaction that never spans an await.

import { mkdirSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { LakestreamError } from '../../errors.ts';

export const DB_FILE = 'log.sqlite';
const SCHEMA_VERSION = 1;
/** How long a writer waits for another process's write lock before giving up (ms). */
const BUSY_TIMEOUT_MS = 15_000;

// Messages are stored in batches, one row per (send, partition, chunk) like Kafka's record batches,
// so a send of thousands of messages is a few row inserts; see codec.ts for the batch layout.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  partitions INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partitions (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic_id, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  base_offset INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS batches_by_end ON batches (topic_id, partition, end_offset);
CREATE TABLE IF NOT EXISTS group_offsets (
  group_id TEXT NOT NULL,
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  committed_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic_id, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members (
  group_id TEXT NOT NULL,
  member_id TEXT NOT NULL,
  topics TEXT NOT NULL,
  heartbeat_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_owners (
  group_id TEXT NOT NULL,
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  member_id TEXT NOT NULL,
  PRIMARY KEY (group_id, topic_id, partition)
) WITHOUT ROWID;
`;

type SqliteModule = typeof import('node:sqlite');
let sqlite: SqliteModule | undefined;

/**
 * Runs `load` with only node:sqlite's own ExperimentalWarning hidden (some Node 24 builds print one
 * when the module loads); every other warning still reaches the user.
 */
export function withoutSqliteWarning<T>(load: () => T): T {
  const original = process.emitWarning;
  process.emitWarning = function filtered(this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    const type =
      typeof warning === 'string'
        ? typeof rest[0] === 'string'
          ? rest[0]
          : (rest[0] as { type?: string })?.type
        : warning.name;
    const text = typeof warning === 'string' ? warning : warning.message;
    if (type === 'ExperimentalWarning' && text.includes('SQLite')) return;
    return (original as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return load();
  } finally {
    process.emitWarning = original;
  }
}

function loadSqlite(): SqliteModule {
  sqlite ??= withoutSqliteWarning(() => process.getBuiltinModule('node:sqlite'));
  return sqlite;
}

/**
 * When a commit reaches the disk. 'normal' (default): a commit is in the WAL before it returns, so
 * it survives the crash or kill of any process; an OS crash or power cut may lose the last
 * commits (like Kafka, which leaves fsync to the OS). 'full': fsync at every commit, which also
 * survives a power cut but blocks the event loop for the fsync (several ms on a busy disk).
 */
export type SyncMode = 'normal' | 'full';

/** Opens (creating if needed) the log database in `dir`. */
export function openLogDatabase(dir: string, sync: SyncMode = 'normal'): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  const path = `${dir}/${DB_FILE}`;
  let db: DatabaseSync;
  try {
    mkdirSync(dir, { recursive: true });
    db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    throw new LakestreamError(
      'UNAVAILABLE',
      `cannot open the embedded log ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  try {
    // Only possible on a new, empty file (before WAL mode writes its header): lets retention give
    // freed pages back to the disk.
    if ((db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count === 0)
      db.exec('PRAGMA auto_vacuum = INCREMENTAL');
    // WAL persists in the file; see SyncMode for what each synchronous level keeps.
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    // After a checkpoint, cut the WAL file back to 64 MB instead of keeping its largest size.
    db.exec('PRAGMA journal_size_limit = 67108864');
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version > SCHEMA_VERSION)
      throw new LakestreamError(
        'UNSUPPORTED',
        `the embedded log ${path} has schema version ${version}; this lakestream reads up to ${SCHEMA_VERSION}`,
      );
    if (version < SCHEMA_VERSION) {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(SCHEMA);
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    }
  } catch (e) {
    db.close();
    if (e instanceof LakestreamError) throw e;
    throw new LakestreamError(
      'UNAVAILABLE',
      `cannot prepare the embedded log ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  return db;
}

/** A second connection to an existing log, for the heartbeat thread (no schema work). */
export function openHeartbeatConnection(dir: string): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(`${dir}/${DB_FILE}`, { timeout: BUSY_TIMEOUT_MS });
  db.exec('PRAGMA synchronous = NORMAL');
  return db;
}

/** Runs `fn` in one write transaction (taking the write lock first, so it cannot deadlock). */
export function writeTransaction<T>(db: DatabaseSync, fn: () => T): T {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (e) {
    throw sqliteError(e, db);
  }
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw sqliteError(e, db);
  }
}

/** node:sqlite's errors as LakestreamErrors naming the file; a lock held too long can be retried. */
export function sqliteError(e: unknown, db: DatabaseSync): unknown {
  if (
    e instanceof LakestreamError ||
    !(e instanceof Error) ||
    (e as { code?: string }).code !== 'ERR_SQLITE_ERROR'
  )
    return e;
  const errcode = (e as { errcode?: number }).errcode ?? 0;
  const where = db.isOpen ? (db.location() ?? 'the embedded log') : 'the embedded log';
  // SQLITE_BUSY (5) / SQLITE_LOCKED (6): another process kept the write lock past busy_timeout.
  if ((errcode & 0xff) === 5 || (errcode & 0xff) === 6)
    return new LakestreamError(
      'UNAVAILABLE',
      `${where} stayed locked by another process for ${BUSY_TIMEOUT_MS} ms`,
      {
        cause: e,
        retriable: true,
      },
    );
  return new LakestreamError('INTERNAL', `${where}: ${e.message}`, { cause: e });
}
