// Streams the lines of a plain, .gz or .zip file as raw bytes, in batches, never loading the file whole.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { openPromise } from 'yauzl';
import { LakestreamError } from '../../errors.ts';

/** One text stream: a plain or gzipped file, or one entry of a zip. */
export interface LineFile {
  /** names the file in messages and in `src` ("name:line"): the base name, or "archive.zip/entry.csv" */
  label: string;
  path: string;
  /** batches of lines without their "\n" (a "\r" before it is kept); line numbers count from 1 */
  batches(): AsyncIterable<Buffer[]>;
  /** progress through the input, 0..1 (compressed bytes for .gz, uncompressed for zip entries) */
  fraction(): number;
}

const NL = 0x0a;
const BATCH_BYTES = 256 * 1024;

/** Splits a byte stream at "\n"; the last line is yielded even without a final newline. */
async function* splitLines(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer[]> {
  let rest: Buffer | null = null;
  for await (const chunk of stream) {
    const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    const out: Buffer[] = [];
    let start = 0;
    for (let i = buf.indexOf(NL, start); i !== -1; i = buf.indexOf(NL, start)) {
      out.push(buf.subarray(start, i));
      start = i + 1;
    }
    // copy the remainder so a huge chunk is not kept alive by one small tail
    rest = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
    if (out.length > 0) yield out;
  }
  if (rest && rest.length > 0) yield [rest];
}

function fileError(path: string, e: unknown): LakestreamError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new LakestreamError('NOT_FOUND', `file not found: ${path}`, { cause: e });
  return new LakestreamError('BAD_INPUT', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
}

function streamFile(path: string, size: number): LineFile {
  let read = 0;
  const gz = path.endsWith('.gz');
  return {
    label: basename(path),
    path,
    fraction: () => (size > 0 ? Math.min(1, read / size) : 1),
    async *batches() {
      const raw = createReadStream(path, { highWaterMark: BATCH_BYTES });
      raw.on('data', (c) => {
        read += c.length;
      });
      let source: Readable = raw;
      if (gz) {
        const gunzip = createGunzip({ chunkSize: BATCH_BYTES });
        raw.on('error', (e) => gunzip.destroy(e));
        source = raw.pipe(gunzip);
      }
      try {
        yield* splitLines(source);
      } catch (e) {
        throw gz && !(e as NodeJS.ErrnoException).syscall
          ? new LakestreamError('BAD_INPUT', `${path} is not a valid gzip file: ${(e as Error).message}`, {
              cause: e,
            })
          : fileError(path, e);
      } finally {
        raw.destroy();
      }
    },
  };
}

async function zipEntries(path: string): Promise<LineFile[]> {
  let zip: Awaited<ReturnType<typeof openPromise>>;
  try {
    zip = await openPromise(path, { autoClose: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw fileError(path, e);
    throw new LakestreamError('BAD_INPUT', `${path} is not a valid zip file: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const entries = [];
  for await (const entry of zip.eachEntry()) {
    // directories and macOS resource forks (__MACOSX/._name) hold no data
    if (
      entry.fileName.endsWith('/') ||
      entry.fileName.startsWith('__MACOSX/') ||
      basename(entry.fileName).startsWith('._')
    )
      continue;
    entries.push(entry);
  }
  let open = entries.length;
  const done = () => {
    if (--open === 0) zip.close();
  };
  if (open === 0) zip.close();
  return entries.map((entry) => {
    let read = 0;
    return {
      label: `${basename(path)}/${entry.fileName}`,
      path,
      fraction: () => (entry.uncompressedSize > 0 ? Math.min(1, read / entry.uncompressedSize) : 1),
      async *batches() {
        const stream = await zip.openReadStreamPromise(entry);
        stream.on('data', (c: Buffer) => {
          read += c.length;
        });
        try {
          yield* splitLines(stream);
        } catch (e) {
          throw new LakestreamError(
            'BAD_INPUT',
            `cannot read ${entry.fileName} in ${path}: ${(e as Error).message}`,
            { cause: e },
          );
        } finally {
          stream.destroy();
          done();
        }
      },
    };
  });
}

/** Opens a file for line streaming: a zip gives one LineFile per data entry. */
export async function openLineFiles(path: string): Promise<LineFile[]> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new LakestreamError('BAD_INPUT', `${path} is not a file`);
    size = s.size;
  } catch (e) {
    if (e instanceof LakestreamError) throw e;
    throw fileError(path, e);
  }
  if (path.toLowerCase().endsWith('.zip')) return zipEntries(path);
  return [streamFile(path, size)];
}

/** A line as text, without a trailing "\r". */
export function lineText(line: Buffer): string {
  const end = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
  return line.toString('utf8', 0, end);
}
