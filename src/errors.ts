// Errors carry a code from a closed list, a cause, and whether a retry can help.

export const ERROR_CODES = [
  'BAD_ARGUMENT', // a flag, URL or parameter is wrong
  'BAD_INPUT', // a file or message the user gave cannot be read as what it claims to be
  'NOT_FOUND', // a path, table, topic or model does not exist
  'NOT_A_TABLE', // a path holds no Delta log
  'CORRUPT_TABLE', // a Delta log or data file is damaged or missing
  'UNSUPPORTED', // a protocol feature or format lakestream does not implement
  'CONFLICT', // an optimistic commit lost a race that cannot be retried blindly
  'UNAVAILABLE', // a server (broker, NameNode) cannot be reached
  'PERMISSION', // the server refused the user
  'TIMEOUT',
  'SPARK', // Spark failed a query for a reason of its own (its error class and SQLSTATE say which)
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class LakestreamError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LakestreamError';
    this.code = code;
    this.retriable = options.retriable ?? (code === 'UNAVAILABLE' || code === 'TIMEOUT');
  }
}

export function isLakestreamError(e: unknown, code?: ErrorCode): e is LakestreamError {
  return e instanceof LakestreamError && (code === undefined || e.code === code);
}

/** The message of anything thrown, for logs and quarantine reasons. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
