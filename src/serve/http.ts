// HTTP plumbing for the API: errors with a status, JSON responses, and the request's query parameters.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLakestreamError } from '../errors.ts';

/** An error a client caused or must see: the status, a message naming the problem, and the parameter. */
export class HttpError extends Error {
  readonly status: number;
  readonly param: string | undefined;

  constructor(status: number, message: string, param?: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.param = param;
  }
}

export function badParam(param: string, message: string): HttpError {
  return new HttpError(400, `parameter "${param}": ${message}`, param);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Maps anything thrown by a handler to a status and a JSON body; unexpected errors are 500 and logged. */
export function sendError(res: ServerResponse, e: unknown, log: (msg: string) => void): void {
  if (e instanceof HttpError) {
    sendJson(res, e.status, { error: { message: e.message, ...(e.param ? { param: e.param } : {}) } });
    return;
  }
  if (isLakestreamError(e)) {
    const status =
      e.code === 'NOT_FOUND' || e.code === 'NOT_A_TABLE'
        ? 404
        : e.code === 'BAD_ARGUMENT' || e.code === 'BAD_INPUT'
          ? 400
          : e.code === 'TIMEOUT'
            ? 408
            : e.code === 'UNAVAILABLE'
              ? 503
              : 500;
    if (status === 500) log(`${e.code}: ${e.message}`);
    sendJson(res, status, { error: { message: e.message, code: e.code } });
    return;
  }
  log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  sendJson(res, 500, { error: { message: 'internal error (see the server log)' } });
}

/** Reads a request body up to `limit` bytes (413 beyond). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
