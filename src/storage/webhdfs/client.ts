// A thin typed client for the WebHDFS REST API (Hadoop 3.x): one method per operation lakestream uses.
// Paths here are absolute HDFS paths; the ObjectStore on top maps store paths onto them.

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { LakestreamError } from '../../errors.ts';
import {
  type CallContext,
  isAlreadyExists,
  parseRemoteException,
  remoteError,
  transportError,
} from './errors.ts';

/** One entry of GETFILESTATUS / LISTSTATUS(_BATCH) (a subset of the fields WebHDFS sends). */
export interface FileStatus {
  /** the entry's name inside the listed directory; '' for GETFILESTATUS or a listed file */
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  /** milliseconds since the epoch */
  modificationTime: number;
  owner: string;
  group: string;
  /** octal, e.g. "755" */
  permission: string;
}

export interface WebHdfsClientOptions {
  /** `host:port` of the NameNode's HTTP server (dfs.namenode.http-address) */
  namenode: string;
  /** sent as `user.name` (simple authentication) unless a delegation token is given */
  user: string;
  /**
   * Hook for secured clusters: returns a Hadoop delegation token (URL-safe string) sent as
   * `delegation=` on every NameNode call; WebHDFS then ignores user.name.
   */
  delegation?: () => string | undefined | Promise<string | undefined>;
  /** how long a server may stay silent during one request before it fails with TIMEOUT; default 60 s */
  timeoutMs?: number;
  /** use https:// (swebhdfs) */
  https?: boolean;
}

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';
/** How many DataNodes one CREATE or OPEN tries when DataNodes refuse connections. */
const DATANODE_ATTEMPTS = 4;

type Reply = { status: number; bytes: Uint8Array };
type Params = Record<string, string | number | boolean | undefined>;

/** Encodes each segment of an absolute path; '=' stays as it is (Delta partition directories, `day=1`). */
export function encodeHdfsPath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s).replaceAll('%3D', '='))
    .join('/');
}

/** Whether sending a request twice does what sending it once does (RENAME and CREATE without overwrite do not). */
function repeatable(method: Method, u: URL): boolean {
  const op = u.searchParams.get('op');
  if (method === 'GET' || method === 'DELETE') return true;
  return method === 'PUT' && op !== 'RENAME' && u.searchParams.get('overwrite') !== 'false';
}

export class WebHdfsClient {
  readonly namenode: string;
  readonly user: string;
  private readonly opts: WebHdfsClientOptions;
  private readonly timeoutMs: number;
  private readonly base: string;
  // Keep-alive: a commit is several NameNode calls in a row; reusing the connection saves a handshake
  // each. Idle connections are dropped after 20 s, before the NameNode's HTTP server (60 s) drops them
  // and a reused one fails with ECONNRESET.
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32, timeout: 20_000 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32, timeout: 20_000 });

  constructor(opts: WebHdfsClientOptions) {
    this.opts = opts;
    this.namenode = opts.namenode;
    this.user = opts.user;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.base = `${opts.https ? 'https' : 'http'}://${opts.namenode}/webhdfs/v1`;
  }

  private ctx(op: string, path: string, server = `NameNode at ${this.namenode}`): CallContext {
    return { op, path, user: this.user, server, namenode: this.namenode };
  }

  private async url(path: string, op: string, params: Params): Promise<string> {
    const q = new URLSearchParams({ op });
    const token = await this.opts.delegation?.();
    if (token) q.set('delegation', token);
    else q.set('user.name', this.user);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    return `${this.base}${encodeHdfsPath(path)}?${q}`;
  }

  /**
   * One HTTP exchange; the whole body is read so the keep-alive connection is reused. node:http rather
   * than fetch: DataNodes answer a PUT with "100 Continue" before "201 Created" even when the client
   * sent no Expect header, which fetch (undici) rejects as a bad response.
   */
  private send(
    method: Method,
    url: string,
    ctx: CallContext,
    body?: Uint8Array,
    fresh = false,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const fail = (e: unknown) => {
        // A kept-alive connection the server closed (or a server that died since, such as a killed
        // DataNode) resets when reused, as a rule before the request reached it: send a request that
        // is safe to repeat again, on a new connection.
        const code = (e as { code?: string }).code;
        if (
          !fresh &&
          req.reusedSocket &&
          (code === 'ECONNRESET' || code === 'EPIPE') &&
          repeatable(method, u)
        )
          this.send(method, url, ctx, body, true).then(resolve, reject);
        else reject(transportError(e, ctx, this.timeoutMs));
      };
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        {
          method,
          agent: fresh ? false : u.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
          headers: body
            ? { 'content-type': 'application/octet-stream', 'content-length': body.byteLength }
            : {},
          // an idle timeout: a large file may take long, but a silent server is given up on
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            chunks.push(c);
            size += c.byteLength;
          });
          res.on('error', fail);
          res.on('end', () => {
            // a plain Uint8Array of its own (not a view into Node's shared Buffer pool)
            const bytes = new Uint8Array(size);
            let at = 0;
            for (const c of chunks) {
              bytes.set(c, at);
              at += c.byteLength;
            }
            resolve({ status: res.statusCode ?? 0, bytes });
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('idle timeout'), { name: 'TimeoutError' })),
      );
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** A NameNode call that answers JSON; NOT_FOUND etc. are thrown as LakestreamErrors. */
  private async json(method: Method, path: string, op: string, params: Params = {}): Promise<unknown> {
    const ctx = this.ctx(op, path);
    const { status, bytes } = await this.send(method, await this.url(path, op, params), ctx);
    const text = new TextDecoder().decode(bytes);
    if (status !== 200) throw remoteError(status, text, ctx);
    return text === '' ? undefined : JSON.parse(text);
  }

  /**
   * Asks the NameNode which DataNode serves `op` (noredirect=true: 200 with {"Location": url} instead
   * of a 307), the first step of CREATE and OPEN.
   */
  private async locate(method: Method, path: string, op: string, params: Params): Promise<string> {
    const loc = (await this.json(method, path, op, { ...params, noredirect: true })) as { Location?: string };
    if (!loc?.Location)
      throw new LakestreamError('INTERNAL', `${op} ${path}: NameNode at ${this.namenode} named no DataNode`);
    return loc.Location;
  }

  private dataNodeCtx(op: string, path: string, location: string): CallContext {
    return this.ctx(op, path, `DataNode at ${new URL(location).host}`);
  }

  /**
   * CREATE: step 1 asks the NameNode for a DataNode, step 2 sends the bytes there (201 Created).
   * With overwrite=false the DataNode's create fails when the path exists: returns 'exists'.
   */
  async create(
    path: string,
    data: Uint8Array,
    opts: { overwrite: boolean; permission?: string },
  ): Promise<'created' | 'exists'> {
    const params = { overwrite: opts.overwrite, permission: opts.permission };
    let r: { ctx: CallContext; reply: Reply };
    try {
      r = await this.viaDataNode('PUT', path, 'CREATE', params, data);
    } catch (e) {
      // The NameNode itself may already refuse (it checks existence before choosing a DataNode).
      if (e instanceof LakestreamError && e.code === 'CONFLICT') return 'exists';
      throw e;
    }
    const { status, bytes } = r.reply;
    if (status === 201 || status === 200) return 'created';
    const text = new TextDecoder().decode(bytes);
    if (!opts.overwrite && isAlreadyExists(parseRemoteException(text))) return 'exists';
    throw remoteError(status, text, r.ctx);
  }

  /** OPEN: the NameNode names a DataNode holding the first block, which streams the file. */
  async open(path: string): Promise<Uint8Array> {
    const { ctx, reply } = await this.viaDataNode('GET', path, 'OPEN', {});
    if (reply.status !== 200) throw remoteError(reply.status, new TextDecoder().decode(reply.bytes), ctx);
    return reply.bytes;
  }

  /**
   * Step 1 at the NameNode, step 2 at the DataNode it names. A DataNode that refuses the connection
   * has died and the NameNode does not know yet (it declares a DataNode dead only after missed
   * heartbeats, and meanwhile may name it again and again): ask again with that DataNode in
   * `excludedatanodes`. Only a refused connection is retried here — then the DataNode surely did
   * nothing — or a reset one when the request is safe to repeat.
   */
  private async viaDataNode(
    method: Method,
    path: string,
    op: string,
    params: Params,
    body?: Uint8Array,
  ): Promise<{ ctx: CallContext; reply: Reply }> {
    const excluded: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const excludedatanodes = excluded.length > 0 ? excluded.join(',') : undefined;
      const location = await this.locate(method, path, op, { ...params, excludedatanodes });
      const ctx = this.dataNodeCtx(op, path, location);
      try {
        return { ctx, reply: await this.send(method, location, ctx, body) };
      } catch (e) {
        const code = (e as { cause?: { code?: string } }).cause?.code;
        // a dying DataNode may also reset the connection: then only a request that is safe to
        // repeat goes to another DataNode
        const gone =
          code === 'ECONNREFUSED' || (code === 'ECONNRESET' && repeatable(method, new URL(location)));
        if (!gone || attempt >= DATANODE_ATTEMPTS) throw e;
        const xfer = await this.transferAddress(new URL(location).host);
        if (xfer && !excluded.includes(xfer)) excluded.push(xfer);
      }
    }
  }

  /**
   * excludedatanodes names a DataNode by its data transfer address (ip:port), the redirect by its HTTP
   * address: the NameNode's JMX (NameNodeInfo.LiveNodes) maps one to the other. Undefined when it
   * cannot tell (JMX closed, DataNode unknown); the caller then just asks again.
   */
  private async transferAddress(httpAddress: string): Promise<string | undefined> {
    const url = `${this.base.replace(/\/webhdfs\/v1$/, '')}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`;
    try {
      const { status, bytes } = await this.send('GET', url, this.ctx('JMX', '/'));
      if (status !== 200) return undefined;
      const info = JSON.parse(new TextDecoder().decode(bytes)).beans?.[0];
      const nodes = JSON.parse(info?.LiveNodes ?? '{}') as Record<
        string,
        { infoAddr?: string; xferaddr?: string }
      >;
      return Object.values(nodes).find((n) => n.infoAddr === httpAddress)?.xferaddr;
    } catch {
      return undefined;
    }
  }

  /** GETFILESTATUS; undefined when the path does not exist. */
  async getFileStatus(path: string): Promise<FileStatus | undefined> {
    try {
      const r = (await this.json('GET', path, 'GETFILESTATUS')) as { FileStatus: FileStatus };
      return r.FileStatus;
    } catch (e) {
      if (e instanceof LakestreamError && e.code === 'NOT_FOUND') return undefined;
      throw e;
    }
  }

  /**
   * The entries of a directory, in name order; undefined when it does not exist. Uses
   * LISTSTATUS_BATCH (dfs.ls.limit entries per call, 1000 by default) so a large directory (a long
   * Delta log) never arrives as one huge response:
   *   {"DirectoryListing": {"partialListing": {"FileStatuses": {"FileStatus": [...]}}, "remainingEntries": N}}
   */
  async listStatus(path: string): Promise<FileStatus[] | undefined> {
    const out: FileStatus[] = [];
    let startAfter: string | undefined;
    for (;;) {
      let r: {
        DirectoryListing: {
          partialListing: { FileStatuses: { FileStatus: FileStatus[] } };
          remainingEntries: number;
        };
      };
      try {
        // the NameNode reads `startafter` in lower case only (it ignores `startAfter`)
        r = (await this.json('GET', path, 'LISTSTATUS_BATCH', { startafter: startAfter })) as typeof r;
      } catch (e) {
        if (e instanceof LakestreamError && e.code === 'NOT_FOUND') return undefined;
        throw e;
      }
      const batch = r.DirectoryListing.partialListing.FileStatuses.FileStatus;
      if (startAfter !== undefined && batch.length > 0 && !(batch[0].pathSuffix > startAfter))
        throw new LakestreamError(
          'INTERNAL',
          `LISTSTATUS_BATCH ${path} (NameNode at ${this.namenode}): asked for the entries after ${startAfter}, got ${batch[0].pathSuffix} again`,
        );
      out.push(...batch);
      if (r.DirectoryListing.remainingEntries <= 0 || batch.length === 0) return out;
      startAfter = batch[batch.length - 1].pathSuffix;
    }
  }

  /** MKDIRS with parents (like mkdir -p); true when the directory exists afterwards. */
  async mkdirs(path: string, permission?: string): Promise<boolean> {
    const r = (await this.json('PUT', path, 'MKDIRS', { permission })) as { boolean: boolean };
    return r.boolean;
  }

  /**
   * RENAME through rename2 (renameoptions set): NONE fails with FileAlreadyExistsException when `to`
   * exists (returned as 'exists'), OVERWRITE atomically replaces a file. The parent of `to` must exist.
   * A missing `from` throws NOT_FOUND.
   */
  async rename(from: string, to: string, opts: { overwrite: boolean }): Promise<'renamed' | 'exists'> {
    try {
      await this.json('PUT', from, 'RENAME', {
        destination: to,
        renameoptions: opts.overwrite ? 'OVERWRITE' : 'NONE',
      });
      return 'renamed';
    } catch (e) {
      if (e instanceof LakestreamError && e.code === 'CONFLICT') return 'exists';
      throw e;
    }
  }

  /** DELETE; false when the path did not exist. */
  async delete(path: string, recursive = false): Promise<boolean> {
    const r = (await this.json('DELETE', path, 'DELETE', { recursive })) as { boolean: boolean };
    return r.boolean;
  }

  /** SETPERMISSION (octal string, e.g. "700"). */
  async setPermission(path: string, permission: string): Promise<void> {
    await this.json('PUT', path, 'SETPERMISSION', { permission });
  }

  /** SETOWNER: only the HDFS superuser may give a path away. */
  async setOwner(path: string, owner: string, group?: string): Promise<void> {
    await this.json('PUT', path, 'SETOWNER', { owner, group });
  }
}
