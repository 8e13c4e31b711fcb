// A producer's durable position: how many of a source's messages the transport has acknowledged, kept in
// a small file so that a killed producer, restarted with the same command, resumes after them.

import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LakestreamError } from '../errors.ts';

/** Where positions live when --position is not given: beside the default embedded log. */
export const DEFAULT_POSITION_DIR = '.lakestream/producer';

interface PositionFile {
  v: 1;
  /** what the command produces (source, inputs, options, transport): a position fits only its own command */
  command: string;
  /** messages of the source, in its order, that the transport acknowledged */
  acknowledged: number;
  /** event time (ms) of the last acknowledged message, for people reading the file */
  last_time: number | null;
  updated_at: string;
}

/** A stable text for a command's identity: its fields sorted, undefined ones left out. */
export function commandIdentity(fields: Record<string, unknown>): string {
  const keys = Object.keys(fields)
    .filter((k) => fields[k] !== undefined)
    .sort();
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, fields[k]])));
}

/** The default position file of a command: one per command identity, so different commands never share one. */
export function defaultPositionFile(identity: string, dir = DEFAULT_POSITION_DIR): string {
  const h = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return resolve(join(dir, `${h}.json`));
}

export class ProducerPosition {
  readonly file: string;
  readonly identity: string;
  /** acknowledged messages when this run started: they are skipped, not sent again */
  readonly resumedAt: number;
  private written = 0;

  private constructor(file: string, identity: string, resumedAt: number) {
    this.file = file;
    this.identity = identity;
    this.resumedAt = resumedAt;
  }

  /** Reads the position of `identity` from `file` (0 when there is none); refuses another command's file. */
  static async open(file: string, identity: string): Promise<ProducerPosition> {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === undefined) return new ProducerPosition(file, identity, 0);
    let p: PositionFile;
    try {
      p = JSON.parse(text) as PositionFile;
    } catch (e) {
      throw new LakestreamError('BAD_INPUT', `position file ${file} is not JSON: delete it to start over`, {
        cause: e,
      });
    }
    if (p.command !== identity)
      throw new LakestreamError(
        'CONFLICT',
        `position file ${file} belongs to another produce command (${p.command}): give another --position, or delete it to start over`,
      );
    if (!Number.isInteger(p.acknowledged) || p.acknowledged < 0)
      throw new LakestreamError('BAD_INPUT', `position file ${file} has no valid "acknowledged" count`);
    return new ProducerPosition(file, identity, p.acknowledged);
  }

  /**
   * Records that `acknowledged` messages (from the source's start) are acknowledged: written to a
   * temporary file, flushed to disk and renamed over the old one, so a kill leaves the old or the new.
   */
  async commit(acknowledged: number, lastTime: number | undefined): Promise<void> {
    if (acknowledged === this.written) return;
    const body: PositionFile = {
      v: 1,
      command: this.identity,
      acknowledged,
      last_time: lastTime ?? null,
      updated_at: new Date().toISOString(),
    };
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`${JSON.stringify(body)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    this.written = acknowledged;
  }

  /** The run reached its end: the next run of the same command starts from the beginning again. */
  async clear(): Promise<void> {
    await rm(this.file, { force: true });
    await rm(`${this.file}.tmp`, { force: true });
  }
}
