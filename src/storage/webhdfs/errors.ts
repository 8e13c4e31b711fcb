// Turns WebHDFS failures (RemoteException bodies, refused connections, timeouts) into LakestreamErrors
// that name the server, the path and the user.

import { LakestreamError } from '../../errors.ts';

/** What a failed call was doing, for the message. */
export interface CallContext {
  op: string;
  /** absolute HDFS path */
  path: string;
  user: string;
  /** `NameNode at 127.0.0.1:9870` or `DataNode at 127.0.0.1:9864` */
  server: string;
  /** host:port of the NameNode (a DataNode passes on the NameNode's refusals, e.g. safe mode) */
  namenode: string;
}

/**
 * WebHDFS error body (both NameNode and DataNode):
 *   {"RemoteException": {"exception": "FileNotFoundException", "javaClassName": "java.io.FileNotFoundException",
 *                        "message": "File does not exist: /a/b"}}
 */
export interface RemoteException {
  exception: string;
  javaClassName?: string;
  message: string;
}

export function parseRemoteException(body: string): RemoteException | undefined {
  try {
    const r = JSON.parse(body)?.RemoteException;
    if (r && typeof r.exception === 'string') return { ...r, message: String(r.message ?? '') };
  } catch {
    // not JSON (a proxy's HTML page, an empty body): the caller reports the HTTP status instead
  }
  return undefined;
}

/** Exceptions that mean "the path already exists" for CREATE overwrite=false and RENAME without OVERWRITE. */
export function isAlreadyExists(r: RemoteException | undefined): boolean {
  return r?.exception === 'FileAlreadyExistsException' || r?.exception === 'AlreadyBeingCreatedException';
}

export function remoteError(status: number, body: string, ctx: CallContext): LakestreamError {
  const r = parseRemoteException(body);
  const where = `${ctx.op} ${ctx.path} (${ctx.server}, user ${ctx.user})`;
  if (!r) {
    const code = status === 503 || status === 502 || status === 504 ? 'UNAVAILABLE' : 'INTERNAL';
    return new LakestreamError(
      code,
      `${where} failed with HTTP ${status}: ${body.slice(0, 200) || '(no body)'}`,
    );
  }
  // DataNodes pass on the NameNode's refusal with its Java stack trace: keep the first line only.
  r.message = r.message.split('\n')[0].trim();
  const detail = `${r.exception}: ${r.message}`;
  switch (r.exception) {
    case 'FileNotFoundException':
      return new LakestreamError('NOT_FOUND', `no such path: ${ctx.path} (${ctx.op} on ${ctx.server})`, {
        cause: detail,
      });
    case 'AccessControlException':
    case 'SecurityException':
    case 'AuthorizationException':
      return new LakestreamError(
        'PERMISSION',
        `permission denied: user "${ctx.user}" may not ${ctx.op} ${ctx.path} on ${ctx.server} — ${r.message}`,
        { cause: detail },
      );
    case 'SafeModeException':
      return new LakestreamError(
        'UNAVAILABLE',
        `NameNode at ${ctx.namenode} is in safe mode: cannot ${ctx.op} ${ctx.path} until it leaves (retry later). ${r.message}`,
        { cause: detail, retriable: true },
      );
    case 'RetriableException':
    case 'StandbyException':
    case 'ConnectException':
    // a DataNode whose connection to the NameNode broke (the NameNode restarted or is starting)
    case 'EOFException':
    case 'SocketTimeoutException':
    case 'ConnectTimeoutException':
      return new LakestreamError('UNAVAILABLE', `${where} failed, try again: ${detail}`, {
        cause: detail,
        retriable: true,
      });
    case 'FileAlreadyExistsException':
    case 'AlreadyBeingCreatedException':
      return new LakestreamError(
        'CONFLICT',
        `path already exists: ${ctx.path} (${ctx.op} on ${ctx.server})`,
        {
          cause: detail,
        },
      );
    case 'IllegalArgumentException':
    case 'UnsupportedOperationException':
    case 'InvalidPathException':
      return new LakestreamError('BAD_ARGUMENT', `${where} was refused: ${detail}`, { cause: detail });
  }
  // The NameNode also reports safe mode inside other exceptions (e.g. a RemoteException wrapping it).
  if (/safe mode/i.test(r.message))
    return new LakestreamError(
      'UNAVAILABLE',
      `NameNode at ${ctx.namenode} is in safe mode: cannot ${ctx.op} ${ctx.path} until it leaves (retry later). ${r.message}`,
      { cause: detail, retriable: true },
    );
  // No DataNode could take the block (all down, or still registering after a restart).
  if (
    /could only be written to|minReplication|failed to find datanode|no datanode|ReplicaNotFound/i.test(
      r.message,
    )
  )
    return new LakestreamError('UNAVAILABLE', `${where} failed: no DataNode available — ${r.message}`, {
      cause: detail,
      retriable: true,
    });
  const after = afterRestart(r);
  if (after)
    return new LakestreamError('UNAVAILABLE', `${where} failed, try again (${after}): ${detail}`, {
      cause: detail,
      retriable: true,
    });
  return new LakestreamError(status >= 500 ? 'UNAVAILABLE' : 'INTERNAL', `${where} failed: ${detail}`, {
    cause: detail,
    retriable: status >= 500,
  });
}

/**
 * Answers that a NameNode restart gives for a while and that a later call does not: Hadoop sends them
 * as a plain IOException (HTTP 403), so neither the status nor the class tells them from a lasting
 * failure — the message does. Returns what is going on, or undefined for anything else. A caller
 * that retries them stops at its deadline, so a block that is really lost still fails, only later.
 */
export function afterRestart(r: RemoteException): string | undefined {
  const m = r.message;
  // A DataNode's own HDFS client (it writes a CREATE and reads an OPEN for us) talking to a NameNode
  // that is gone or restarting: Hadoop's NetUtils wraps the socket error as "Call From … to …
  // failed on connection exception" / "failed on socket exception" / "Connection reset".
  if (
    [
      'SocketException',
      'NoRouteToHostException',
      'ClosedChannelException',
      'SocketTimeoutException',
    ].includes(r.exception) ||
    /failed on (connection|socket|local) exception|Connection (reset|refused)|Broken pipe/i.test(m)
  )
    return 'the NameNode is restarting';
  // The DataNodes re-register and report their blocks only after the NameNode is back: until then a
  // file's close waits for its last block in vain (the client gives up after a few short retries),
  // a block being written is "not replicated yet", and a file read finds no DataNode holding its block.
  if (
    /does not have enough number of replicas|not replicated yet/i.test(m) ||
    r.exception === 'NotReplicatedYetException'
  )
    return 'its blocks are not reported yet';
  if (
    /No active (and not excluded )?nodes contain this block|Could not obtain block|Zero blocklocations/i.test(
      m,
    ) ||
    r.exception === 'BlockMissingException'
  )
    return 'no DataNode has reported the block yet';
  // A NameNode that restarted without the lease of a temp file being written: the write is repeated
  // under a new temp name.
  if (r.exception === 'LeaseExpiredException' || /No lease on/i.test(m)) return 'the write lost its lease';
  return undefined;
}

/** fetch() rejected: the server did not answer (refused, reset, unknown host) or the call timed out. */
export function transportError(e: unknown, ctx: CallContext, timeoutMs: number): LakestreamError {
  const err = e as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError')
    return new LakestreamError(
      'TIMEOUT',
      `${ctx.op} ${ctx.path}: ${ctx.server} did not answer for ${timeoutMs} ms`,
      {
        cause: e,
      },
    );
  const code = err?.code ?? err?.cause?.code ?? '';
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'unknown host'
        : (err?.cause?.message ?? err?.message ?? String(e));
  return new LakestreamError(
    'UNAVAILABLE',
    `${ctx.server} is not reachable (${why}) while trying to ${ctx.op} ${ctx.path}`,
    {
      cause: e,
      retriable: true,
    },
  );
}

/** The same error with the temp file it was about replaced by the object the caller wrote. */
export function aboutTarget(e: unknown, tempPath: string, target: string): unknown {
  if (!(e instanceof LakestreamError) || !e.message.includes(tempPath)) return e;
  return new LakestreamError(e.code, e.message.replaceAll(tempPath, target), {
    cause: e,
    retriable: e.retriable,
  });
}
