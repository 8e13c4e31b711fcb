// ExecutePlan as a reattachable execution: the server keeps the operation's responses until we release
// them, so a stream that breaks (a dropped connection, the server's own stream time limit) is picked up
// by ReattachExecute from the last response we saw; responses are released as they are consumed, and
// the operation is released at the end. An aborted signal sends Interrupt for the operation.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, ConnectError } from '@connectrpc/connect';
import { errorInfoOf } from './errors.ts';
import {
  type ExecutePlanResponse,
  InterruptRequest_InterruptType,
  type Plan,
} from './gen/spark/connect/base_pb.js';
import type { Session } from './session.ts';

export interface ExecuteOptions {
  signal?: AbortSignal;
  /** the query text, for the position of an error in it */
  query?: string;
  /** operation tags, for Interrupt by tag */
  tags?: string[];
}

/** How often a broken stream is picked up again before the failure is the caller's. */
const MAX_RETRIES = 8;
const MAX_BACKOFF_MS = 4_000;

/** Counts what the reattach machinery did, for tests and logs. */
export interface ExecuteStats {
  reattaches: number;
  releases: number;
}

/**
 * The responses of one operation, result_complete excluded, in order and each once, however many
 * streams it took. Ending the iteration early interrupts and releases the operation.
 */
export async function* executePlan(
  session: Session,
  plan: Plan,
  opts: ExecuteOptions = {},
  stats: ExecuteStats = { reattaches: 0, releases: 0 },
): AsyncGenerator<ExecutePlanResponse> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const operationId = randomUUID();
  // sent once; awaited before an abort's rejection, so a process exiting on Ctrl-C has stopped the query
  let interrupting: Promise<void> | undefined;
  const interrupt = () => {
    // a failure is fine: the server may have finished the operation already
    interrupting ??= session.background(
      session.rpc.interrupt(
        {
          ...session.base(),
          interruptType: InterruptRequest_InterruptType.OPERATION_ID,
          interrupt: { case: 'operationId', value: operationId },
        },
        { timeoutMs: 5_000 },
      ),
    );
  };
  signal?.addEventListener('abort', interrupt, { once: true });
  const releaser = new Releaser(session, operationId, stats);
  let lastResponseId: string | undefined;
  let accepted = false; // the server has the operation (it answered on it)
  let complete = false;
  let failed = false;
  let retries = 0;
  try {
    while (!complete) {
      const stream = accepted
        ? session.rpc.reattachExecute({ ...session.base(), operationId, lastResponseId }, { signal })
        : session.rpc.executePlan(
            {
              ...session.base(),
              operationId,
              plan,
              tags: opts.tags ?? [],
              requestOptions: [{ requestOption: { case: 'reattachOptions', value: { reattachable: true } } }],
            },
            { signal },
          );
      try {
        for await (const r of stream) {
          accepted = true;
          retries = 0;
          session.observe(r.serverSideSessionId);
          lastResponseId = r.responseId;
          if (r.responseType.case === 'resultComplete') {
            complete = true;
            break;
          }
          yield r;
          releaser.until(r.responseId);
        }
        // a stream that ends before result_complete was closed by the server on purpose (its stream
        // duration or size limit): the operation goes on, reattach
        if (!complete) stats.reattaches++;
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (!retriable(e) || ++retries > MAX_RETRIES)
          throw await session.toError(e, 'query', signal, opts.query);
        const info = e instanceof ConnectError ? errorInfoOf(e) : undefined;
        // the first request may not have reached the server; if it did, the retry says so and we reattach
        if (info?.errorClass === 'INVALID_HANDLE.OPERATION_ALREADY_EXISTS') accepted = true;
        if (accepted) stats.reattaches++;
        await sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** retries), undefined, { signal }).catch(() => {
          throw signal?.reason;
        });
      }
    }
  } catch (e) {
    failed = true;
    if (signal?.aborted) {
      interrupt();
      await interrupting;
    }
    throw e;
  } finally {
    signal?.removeEventListener('abort', interrupt);
    // stopped early by the consumer: the operation must not run on for nobody
    if (!complete && !failed && !signal?.aborted) interrupt();
    if (accepted) releaser.all();
  }
}

/** A broken stream, not a failed query: the operation may still be running on the server. */
function retriable(e: unknown): boolean {
  if (!(e instanceof ConnectError)) return false;
  const info = errorInfoOf(e);
  if (info) {
    return (
      info.errorClass === 'INVALID_CURSOR.DISCONNECTED' ||
      info.errorClass === 'INVALID_HANDLE.OPERATION_ALREADY_EXISTS'
    );
  }
  // a dropped connection ends its HTTP/2 streams as CANCEL: not ours (an abort of ours never gets here)
  return [Code.Unavailable, Code.Internal, Code.Unknown, Code.Canceled].includes(e.code);
}

/** ReleaseExecute for responses already consumed, one call in flight at a time; release-all at the end. */
class Releaser {
  private readonly session: Session;
  private readonly operationId: string;
  private readonly stats: ExecuteStats;
  private pending?: string;
  private running = false;
  private done = false;

  constructor(session: Session, operationId: string, stats: ExecuteStats) {
    this.session = session;
    this.operationId = operationId;
    this.stats = stats;
  }

  until(responseId: string): void {
    if (this.done) return;
    this.pending = responseId;
    if (!this.running) void this.drain();
  }

  all(): void {
    this.done = true;
    this.pending = undefined;
    this.send({ case: 'releaseAll', value: {} });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.pending !== undefined && !this.done) {
      const responseId = this.pending;
      this.pending = undefined;
      await this.send({ case: 'releaseUntil', value: { responseId } });
    }
    this.running = false;
  }

  private send(
    release: { case: 'releaseAll'; value: object } | { case: 'releaseUntil'; value: { responseId: string } },
  ): Promise<void> {
    this.stats.releases++;
    return this.session.background(
      this.session.rpc.releaseExecute(
        { ...this.session.base(), operationId: this.operationId, release },
        { timeoutMs: 10_000 },
      ),
    );
  }
}
