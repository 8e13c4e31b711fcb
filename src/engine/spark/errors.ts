// Spark's errors as lakestream's: a SparkError is a LakestreamError whose code follows Spark's SQLSTATE
// (bad SQL → BAD_ARGUMENT, a missing table → NOT_FOUND, …) and that keeps Spark's error class,
// SQLSTATE, message parameters and, for bad SQL, where in the query the error is.

import { Code, ConnectError } from '@connectrpc/connect';
import { type ErrorCode, LakestreamError } from '../../errors.ts';
import { ErrorInfoSchema } from './gen/google/rpc/error_details_pb.js';
import type { FetchErrorDetailsResponse } from './gen/spark/connect/base_pb.js';

/** Where in the query text an error is: 0-based character offsets, stop inclusive, as Spark counts. */
export interface SparkQueryContext {
  start: number;
  stop: number;
  fragment: string;
  /** 1-based line and column of start, counted in the query text the error came from */
  line?: number;
  column?: number;
}

export interface SparkErrorFields {
  errorClass?: string;
  sqlState?: string;
  messageParameters?: Record<string, string>;
  context?: SparkQueryContext;
  /** the server-side exception class, e.g. org.apache.spark.sql.catalyst.parser.ParseException */
  exception?: string;
  /** the gRPC status the call ended with */
  grpcCode?: Code;
}

export class SparkError extends LakestreamError {
  readonly errorClass?: string;
  readonly sqlState?: string;
  readonly messageParameters: Record<string, string>;
  readonly context?: SparkQueryContext;
  readonly exception?: string;
  readonly grpcCode?: Code;

  constructor(code: ErrorCode, message: string, fields: SparkErrorFields, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'SparkError';
    this.errorClass = fields.errorClass;
    this.sqlState = fields.sqlState;
    this.messageParameters = fields.messageParameters ?? {};
    this.context = fields.context;
    this.exception = fields.exception;
    this.grpcCode = fields.grpcCode;
  }
}

export function isSparkError(e: unknown): e is SparkError {
  return e instanceof SparkError;
}

// error classes that mean "this thing does not exist" (their SQLSTATEs are shared with other analysis errors)
const NOT_FOUND_CLASSES =
  /^(TABLE_OR_VIEW_NOT_FOUND|PATH_NOT_FOUND|SCHEMA_NOT_FOUND|ROUTINE_NOT_FOUND|UNRESOLVED_ROUTINE|DELTA_TABLE_NOT_FOUND|DELTA_PATH_DOES_NOT_EXIST|DELTA_MISSING_DELTA_TABLE|DELTA_TABLE_NOT_FOUND_STREAMING)\b/;

/** lakestream's error code for a Spark error class and SQLSTATE. */
export function codeForSpark(errorClass: string | undefined, sqlState: string | undefined): ErrorCode {
  if (errorClass && NOT_FOUND_CLASSES.test(errorClass)) return 'NOT_FOUND';
  const cls = sqlState?.slice(0, 2);
  if (cls === '42') return 'BAD_ARGUMENT'; // syntax error or access rule violation: the query is wrong
  if (cls === '22' || cls === '23') return 'BAD_INPUT'; // data exception, constraint violation: the data is
  if (cls === '0A') return 'UNSUPPORTED';
  if (sqlState === '2D521' || errorClass?.startsWith('DELTA_CONCURRENT')) return 'CONFLICT';
  return 'SPARK';
}

/** What the gRPC trailer's ErrorInfo carries; errorId, when present, names the full details on the server. */
export interface SparkErrorInfo {
  exception?: string;
  errorClass?: string;
  sqlState?: string;
  messageParameters?: Record<string, string>;
  errorId?: string;
}

export function errorInfoOf(e: ConnectError): SparkErrorInfo | undefined {
  const info = e.findDetails(ErrorInfoSchema)[0];
  if (!info) return undefined;
  const m = info.metadata;
  let messageParameters: Record<string, string> | undefined;
  try {
    messageParameters = m.messageParameters ? JSON.parse(m.messageParameters) : undefined;
  } catch {
    messageParameters = undefined;
  }
  return {
    exception: info.reason || undefined,
    errorClass: m.errorClass || undefined,
    sqlState: m.sqlState || undefined,
    messageParameters,
    errorId: m.errorId || undefined,
  };
}

/** The root error's query context from FetchErrorDetails, with line and column when the query is known. */
export function contextOf(details: FetchErrorDetailsResponse, query?: string): SparkQueryContext | undefined {
  const root = details.errors[details.rootErrorIdx ?? 0];
  const qc = root?.sparkThrowable?.queryContexts.find(
    (c) => c.stopIndex >= c.startIndex && c.startIndex >= 0,
  );
  if (!qc) return undefined;
  const context: SparkQueryContext = { start: qc.startIndex, stop: qc.stopIndex, fragment: qc.fragment };
  if (query !== undefined && qc.startIndex <= query.length) {
    const before = query.slice(0, qc.startIndex).split('\n');
    context.line = before.length;
    context.column = before[before.length - 1].length + 1;
  }
  return context;
}

/** Parse errors say where in the message itself: "(line 1, pos 7)", pos 0-based. */
export function parsePosition(message: string): { line: number; column: number } | undefined {
  const m = /\(line (\d+), pos (\d+)\)/.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]) + 1 } : undefined;
}

/** One line for an RPC failure without Spark's error info (transport, deadline, cancel). */
export function transportError(e: ConnectError, address: string, what: string): LakestreamError {
  const fields = { grpcCode: e.code };
  switch (e.code) {
    case Code.Unavailable:
      return new SparkError(
        'UNAVAILABLE',
        `Spark Connect at ${address} is unreachable: ${e.rawMessage}`,
        fields,
        {
          cause: e,
        },
      );
    case Code.DeadlineExceeded:
      return new SparkError('TIMEOUT', `Spark Connect at ${address}: ${what} timed out`, fields, {
        cause: e,
      });
    case Code.PermissionDenied:
    case Code.Unauthenticated:
      return new SparkError('PERMISSION', `Spark Connect at ${address}: ${e.rawMessage}`, fields, {
        cause: e,
      });
    case Code.ResourceExhausted:
      return new SparkError('SPARK', `Spark Connect at ${address}: ${e.rawMessage}`, fields, { cause: e });
    default:
      return new SparkError('SPARK', `Spark Connect at ${address}: ${what} failed: ${e.rawMessage}`, fields, {
        cause: e,
      });
  }
}

export { ConnectError };
