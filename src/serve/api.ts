// The /api/* routes: each validates its parameters and answers JSON (the dashboard uses nothing else).

import type { IncomingMessage } from 'node:http';
import { Catalog, type GroupList, KINDS, type MeterList } from './data/catalog.ts';
import { clusterTraceView } from './data/cluster-trace.ts';
import { consumption } from './data/consumption.ts';
import { accuracy, forecastMonth, latestPredictions } from './data/forecast.ts';
import type { PipelineMonitor } from './data/pipeline.ts';
import { DEFAULT_ROW_CAP, MAX_ROW_CAP, type SqlResult, type TableList } from './explore/sandbox.ts';
import { badParam, HttpError, readBody } from './http.ts';
import type { LakeReader } from './lake-reader.ts';
import * as v from './validate.ts';

/** GET /api/info: what the server serves. */
export interface ServerInfo {
  lake: string;
  transport: string | null;
  version: string;
  engine: string;
}

export interface ApiContext {
  lake: LakeReader;
  catalog: Catalog;
  monitor: PipelineMonitor;
  /** the Explore page's SQL: DuckDB's locked sandbox, or the guarded engine */
  sandbox: { run(sql: string, opts: { maxRows?: number; timeoutMs?: number }): Promise<SqlResult> };
  info: ServerInfo;
  sqlTimeoutMs: number;
}

type Handler = (ctx: ApiContext, q: URLSearchParams, req: IncomingMessage) => Promise<unknown>;

const GET: Record<string, Handler> = {
  '/api/info': async (ctx, q): Promise<ServerInfo> => {
    v.onlyParams(q, []);
    return ctx.info;
  },
  '/api/meters': async (ctx, q): Promise<MeterList> => {
    v.onlyParams(q, ['q', 'kind', 'limit']);
    const term = v.search(q, 'q').toLowerCase();
    const kind = q.has('kind') ? v.oneOf(q, 'kind', KINDS, 'electricity') : undefined;
    const limit = v.int(q, 'limit', 200, 1, 5000);
    const all = await ctx.catalog.meters();
    const hits = all.filter(
      (m) => (!kind || m.kind === kind) && (!term || m.id.toLowerCase().includes(term)),
    );
    return { total: hits.length, meters: hits.slice(0, limit) };
  },
  '/api/groups': async (ctx, q): Promise<GroupList> => {
    v.onlyParams(q, []);
    return { groups: await ctx.catalog.groups() };
  },
  '/api/consumption': (ctx, q) => consumption(ctx.lake, ctx.catalog, q),
  '/api/forecast': (ctx, q) => forecastMonth(ctx.lake, ctx.catalog, q),
  '/api/forecast/accuracy': (ctx, q) => accuracy(ctx.lake, ctx.catalog, q),
  '/api/predictions/latest': (ctx, q) => latestPredictions(ctx.lake, ctx.catalog, q),
  '/api/cluster-trace': (ctx, q) => clusterTraceView(ctx.lake, q),
  '/api/pipeline': async (ctx, q) => {
    v.onlyParams(q, []);
    return ctx.monitor.snapshot();
  },
  '/api/tables': async (ctx, q): Promise<TableList> => {
    v.onlyParams(q, []);
    return {
      tables: await ctx.lake.tables(),
      rowCap: { default: DEFAULT_ROW_CAP, max: MAX_ROW_CAP },
      timeoutMs: ctx.sqlTimeoutMs,
    };
  },
};

const POST: Record<string, Handler> = {
  '/api/sql': async (ctx, q, req): Promise<SqlResult> => {
    v.onlyParams(q, []);
    // A JSON content type makes a cross-site form post impossible without a CORS preflight we never grant.
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
      throw new HttpError(415, 'POST /api/sql takes application/json: {"sql": "SELECT …", "maxRows": 1000}');
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 64 * 1024));
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, 'the body is not valid JSON');
    }
    const b = body as { sql?: unknown; maxRows?: unknown };
    if (typeof b?.sql !== 'string') throw badParam('sql', 'must be a string holding one SELECT');
    let maxRows = DEFAULT_ROW_CAP;
    if (b.maxRows !== undefined) {
      if (
        typeof b.maxRows !== 'number' ||
        !Number.isInteger(b.maxRows) ||
        b.maxRows < 1 ||
        b.maxRows > MAX_ROW_CAP
      )
        throw badParam(
          'maxRows',
          `must be a whole number from 1 to ${MAX_ROW_CAP} (the row cap), got ${JSON.stringify(b.maxRows)}`,
        );
      maxRows = b.maxRows;
    }
    return ctx.sandbox.run(b.sql, { maxRows, timeoutMs: ctx.sqlTimeoutMs });
  },
};

/** The handler for a method and path; undefined = 404; 'method' = the path exists for another method. */
export function route(method: string, path: string): Handler | 'method' | undefined {
  const table = method === 'GET' || method === 'HEAD' ? GET : method === 'POST' ? POST : undefined;
  const h = table?.[path];
  if (h) return h;
  return GET[path] || POST[path] ? 'method' : undefined;
}

export function newCatalog(lake: LakeReader): Catalog {
  return new Catalog(lake);
}
