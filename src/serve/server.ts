// `lakestream serve`: the HTTP server — auth, security headers, static dashboard, JSON API, SSE, /metrics.

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseEngine } from '../engine/index.ts';
import { LakestreamError } from '../errors.ts';
import { type ApiContext, route } from './api.ts';
import { DIST_DIR, ensureWebBuilt, WEB_DIR } from './build.ts';
import { Catalog } from './data/catalog.ts';
import { PipelineMonitor, type PipelineSnapshot } from './data/pipeline.ts';
import { EngineAdapter } from './engine-adapter.ts';
import { EngineSandbox } from './explore/engine-sandbox.ts';
import { DEFAULT_TIMEOUT_MS, SqlSandbox } from './explore/sandbox.ts';
import { HttpError, sendError, sendJson } from './http.ts';
import { LakeAdapter } from './lake-adapter.ts';
import type { LakeReader } from './lake-reader.ts';
import { ServerMetrics } from './metrics.ts';
import { authorize, checkBindPolicy, hostAllowed, setSecurityHeaders, tokenCookie } from './security.ts';

export interface ServeOptions {
  /** default 3000; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1; anything else requires `token` */
  host?: string;
  token?: string;
  /** lake URL (file:DIR, webhdfs://…) or an open reader */
  lake: string | LakeReader;
  /** the query engine the API and Explore read through: duckdb (default) or spark[://HOST:PORT] */
  engine?: string;
  /** transport URL for consumer lag; without it the pipeline page shows worker status only */
  transport?: string;
  /** consumer group whose lag is shown (default lakestream-meters) */
  group?: string;
  /** how often the live page gets an update, ms (default 1000) */
  liveIntervalMs?: number;
  /** the Explore page's query timeout, ms (default 10 s) */
  sqlTimeoutMs?: number;
  /** progress and errors (default: stderr) */
  log?: (msg: string) => void;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/assets/app.js': { file: join(DIST_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: join(DIST_DIR, 'app.css'), type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: join(WEB_DIR, 'favicon.svg'), type: 'image/svg+xml' },
};

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 3000;
  const token = opts.token === '' ? undefined : opts.token;
  const log = opts.log ?? ((m: string) => process.stderr.write(`serve: ${m}\n`));
  checkBindPolicy(host, token);
  await ensureWebBuilt(log);

  const ownsLake = typeof opts.lake === 'string';
  const engine = parseEngine(opts.engine ?? 'duckdb');
  const lake: LakeReader =
    typeof opts.lake !== 'string'
      ? opts.lake
      : engine.name === 'spark'
        ? await EngineAdapter.open(opts.lake, opts.engine!)
        : await LakeAdapter.open(opts.lake);
  const catalog = new Catalog(lake);
  const monitor = new PipelineMonitor(lake, { transportUrl: opts.transport, group: opts.group });
  const sandbox =
    lake instanceof EngineAdapter
      ? new EngineSandbox(lake.qe, () => lake.tables())
      : new SqlSandbox(lake.store, () => lake.tables());
  const metrics = new ServerMetrics();
  const ctx: ApiContext = {
    lake,
    catalog,
    monitor,
    sandbox,
    info: {
      lake: lake.url,
      transport: opts.transport ?? null,
      version: '0.1.0',
      engine: lake instanceof EngineAdapter ? `${lake.qe.name} (${lake.qe.address})` : 'duckdb (in process)',
    },
    sqlTimeoutMs: opts.sqlTimeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const live = new LiveFeed(monitor, opts.liveIntervalMs ?? 1000, metrics, log);
  const pages = new Map<string, Buffer>();

  const server = createServer((req, res) => {
    const started = performance.now();
    let routeName = 'other';
    res.on('finish', () => metrics.observe(routeName, res.statusCode, (performance.now() - started) / 1000));
    handle(req, res, (r) => {
      routeName = r;
    }).catch((e) => {
      if (!res.headersSent) sendError(res, e, log);
      else res.destroy();
    });
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    named: (r: string) => void,
  ): Promise<void> {
    setSecurityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (!hostAllowed(req, host, token))
      throw new HttpError(403, 'unexpected Host header (the server answers only to 127.0.0.1/localhost)');
    if (path === '/healthz') {
      named('/healthz');
      return sendJson(res, 200, { ok: true });
    }
    const auth = authorize(req, url, token);
    if (auth === 'denied') {
      named('unauthorized');
      res.setHeader('WWW-Authenticate', 'Bearer realm="lakestream"');
      throw new HttpError(
        401,
        'a token is required: send "Authorization: Bearer <token>" or open the dashboard with ?token=<token>',
      );
    }
    if (auth !== 'ok') {
      res.statusCode = 303;
      res.setHeader('Set-Cookie', tokenCookie(token!));
      res.setHeader('Location', auth.setCookieAndRedirect);
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && path === '/api/sql')) {
      res.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, `${req.method} is not allowed: the server is read-only`);
    }
    if (path === '/' || path === '/index.html') {
      named('/');
      return sendStatic(res, req, join(WEB_DIR, 'index.html'), 'text/html; charset=utf-8', pages);
    }
    // a shared link to a page (/forecast) lands on it: the pages are routed by the hash
    // (/cluster is the trace page's old name)
    const page = /^\/(consumption|forecast|pipeline|cluster-trace|cluster|explore)\/?$/.exec(path);
    if (page) {
      named('/');
      res.statusCode = 302;
      res.setHeader('Location', `/#/${page[1] === 'cluster' ? 'cluster-trace' : page[1]}${url.search}`);
      res.end();
      return;
    }
    const asset = STATIC[path];
    if (asset) {
      named('/assets');
      return sendStatic(res, req, asset.file, asset.type, pages);
    }
    if (path === '/metrics') {
      named('/metrics');
      const snap = await monitor.snapshot().catch(() => undefined);
      const text = metrics.render(snap);
      res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
      res.end(text);
      return;
    }
    if (path === '/api/pipeline/stream') {
      named('/api/pipeline/stream');
      live.subscribe(req, res);
      return;
    }
    if (path.startsWith('/api/')) {
      const h = route(req.method ?? 'GET', path);
      if (h === undefined) throw new HttpError(404, `no such API: ${path}`);
      named(path);
      if (h === 'method') throw new HttpError(405, `${req.method} ${path} is not allowed`);
      return sendJson(res, 200, await h(ctx, url.searchParams, req));
    }
    throw new HttpError(404, `not found: ${path}`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new LakestreamError(
          e.code === 'EADDRINUSE' ? 'CONFLICT' : 'UNAVAILABLE',
          e.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use (try --port)`
            : `cannot listen on ${host}:${port}: ${e.message}`,
          { cause: e },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}`;
  return {
    url,
    close: async () => {
      live.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      sandbox.close();
      await monitor.close();
      if (ownsLake) await lake.close();
    },
  };
}

async function sendStatic(
  res: ServerResponse,
  req: IncomingMessage,
  file: string,
  type: string,
  cache: Map<string, Buffer>,
) {
  let body = cache.get(file);
  if (!body) {
    body = await readFile(file);
    cache.set(file, body);
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', body.length);
  res.setHeader('Cache-Control', 'no-cache');
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Server-sent events for the live page: one pipeline snapshot per tick, shared by every subscriber. */
class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly monitor: PipelineMonitor;
  private readonly intervalMs: number;
  private readonly metrics: ServerMetrics;
  private readonly log: (m: string) => void;

  constructor(
    monitor: PipelineMonitor,
    intervalMs: number,
    metrics: ServerMetrics,
    log: (m: string) => void,
  ) {
    this.monitor = monitor;
    this.intervalMs = intervalMs;
    this.metrics = metrics;
    this.log = log;
  }

  subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    this.metrics.sseClients = this.clients.size;
    req.on('close', () => {
      this.clients.delete(res);
      this.metrics.sseClients = this.clients.size;
      if (this.clients.size === 0) this.stop();
    });
    void this.tick();
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
  }

  private async tick(): Promise<void> {
    if (this.busy || this.clients.size === 0) return;
    this.busy = true;
    try {
      const snap: PipelineSnapshot = await this.monitor.snapshot();
      const frame = `event: pipeline\ndata: ${JSON.stringify(snap)}\n\n`;
      for (const c of this.clients) c.write(frame);
    } catch (e) {
      this.log(`live update failed: ${(e as Error).message}`);
      for (const c of this.clients)
        c.write(`event: problem\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
    } finally {
      this.busy = false;
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
