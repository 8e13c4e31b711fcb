// One Spark Connect session over one HTTP/2 connection: the typed gRPC client made from the generated
// service, the fields every request carries, and Spark's errors turned into SparkErrors.

import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { create } from '@bufbuild/protobuf';
import { type CallOptions, type Client, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { LakestreamError } from '../../errors.ts';
import type { SparkAddress } from './address.ts';
import {
  codeForSpark,
  contextOf,
  errorInfoOf,
  parsePosition,
  SparkError,
  type SparkQueryContext,
  transportError,
} from './errors.ts';
import { SparkConnectService, UserContextSchema } from './gen/spark/connect/base_pb.js';

export const CLIENT_TYPE = 'lakestream-ts';

/** The fields every Spark Connect request starts with. */
export interface RequestBase {
  sessionId: string;
  userContext: ReturnType<typeof create<typeof UserContextSchema>>;
  clientType: string;
  clientObservedServerSideSessionId?: string;
}

export class Session {
  readonly id: string;
  readonly address: SparkAddress;
  readonly userId: string;
  readonly rpc: Client<typeof SparkConnectService>;
  private readonly http2: Http2SessionManager;
  /** the server's id of this session, seen in its first answer: a restarted server has another */
  private serverSideId?: string;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(address: SparkAddress, userId?: string) {
    this.address = address;
    this.id = address.sessionId ?? randomUUID();
    this.userId = userId ?? address.userId ?? userInfo().username;
    // PINGs find a connection that died under an idle stream (a long query sends nothing for minutes)
    this.http2 = new Http2SessionManager(address.baseUrl, {
      pingIntervalMs: 30_000,
      pingTimeoutMs: 10_000,
      idleConnectionTimeoutMs: 60_000,
    });
    this.rpc = createClient(
      SparkConnectService,
      createGrpcTransport({ baseUrl: address.baseUrl, sessionManager: this.http2 }),
    );
  }

  base(): RequestBase {
    return {
      sessionId: this.id,
      userContext: create(UserContextSchema, { userId: this.userId, userName: this.userId }),
      clientType: CLIENT_TYPE,
      clientObservedServerSideSessionId: this.serverSideId,
    };
  }

  /** Remembers the server's session id from any response that carries one. */
  observe(serverSideSessionId: string | undefined): void {
    if (serverSideSessionId && this.serverSideId === undefined) this.serverSideId = serverSideSessionId;
  }

  /** Runs a unary call; its failure comes back as a SparkError (details fetched from the server). */
  async unary<T extends { serverSideSessionId?: string }>(
    what: string,
    call: (opts: CallOptions) => Promise<T>,
    opts: CallOptions = {},
    query?: string,
  ): Promise<T> {
    try {
      const r = await call(opts);
      this.observe(r.serverSideSessionId);
      return r;
    } catch (e) {
      throw await this.toError(e, what, opts.signal, query);
    }
  }

  /**
   * Spark's error for a failed call: error class, SQLSTATE and parameters from the ErrorInfo in the
   * gRPC status, the position in the query from FetchErrorDetails. An aborted signal gives its reason.
   */
  async toError(e: unknown, what: string, signal?: AbortSignal, query?: string): Promise<unknown> {
    if (signal?.aborted) return signal.reason;
    if (e instanceof LakestreamError) return e;
    const ce = ConnectError.from(e);
    const info = errorInfoOf(ce);
    if (!info) return transportError(ce, this.address.display, what);
    let context: SparkQueryContext | undefined;
    if (info.errorId) {
      try {
        const details = await this.rpc.fetchErrorDetails(
          { ...this.base(), errorId: info.errorId },
          { timeoutMs: 5_000 },
        );
        context = contextOf(details, query);
      } catch {
        // the details are a bonus: the error class and message are already here
      }
    }
    const message = cleanMessage(ce.rawMessage);
    if (!context) {
      const pos = parsePosition(ce.rawMessage);
      if (pos) context = { start: offsetOf(query, pos.line, pos.column), stop: -1, fragment: '', ...pos };
    }
    const where = context?.line !== undefined ? ` (line ${context.line}, column ${context.column})` : '';
    const text = message.startsWith('[') || !info.errorClass ? message : `[${info.errorClass}] ${message}`;
    return new SparkError(
      codeForSpark(info.errorClass, info.sqlState),
      `Spark: ${text}${where}`,
      { ...info, context, grpcCode: ce.code },
      { cause: ce },
    );
  }

  /** Keeps a call that runs in the background (a release), so close() can let it finish first. */
  background(call: Promise<unknown>): Promise<void> {
    const p = call.then(
      () => {},
      () => {}, // a background call's failure only costs the server some memory until the session ends
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /** Waits, at most ms, for the background calls; after ReleaseSession they would be refused. */
  async settle(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.inFlight),
      new Promise((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Closes the HTTP/2 connection; calls after this fail. */
  closeTransport(): void {
    this.http2.abort();
  }
}

/**
 * Spark's message without what follows it for bad SQL — the query echoed after "== SQL ==", the
 * analyzed plan after "; line 1 pos 14;" — and without its position, which the error says its own way.
 */
function cleanMessage(message: string): string {
  let text = message.trim();
  const echo = text.indexOf('\n== SQL');
  if (echo >= 0) text = text.slice(0, echo);
  const plan = /;? line \d+ pos \d+;?(\n|$)/.exec(text);
  if (plan) text = text.slice(0, plan.index);
  return text.replace(/\s*\(line \d+, pos \d+\)/, '').trim();
}

/** The 0-based offset of a 1-based line and column in the query, -1 when the query is not known. */
function offsetOf(query: string | undefined, line: number, column: number): number {
  if (query === undefined) return -1;
  const lines = query.split('\n');
  if (line > lines.length) return -1;
  return lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
}
