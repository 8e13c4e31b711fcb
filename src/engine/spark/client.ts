// SparkConnectClient: a Spark Connect session from TypeScript — SQL and DataFrame plans executed into
// Arrow tables, schema and explain, config, interrupt, and the session's release on close().

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Table } from 'apache-arrow';
import { describeError, LakestreamError } from '../../errors.ts';
import { parseSparkAddress } from './address.ts';
import { tableFrom } from './arrow.ts';
import { DataFrame } from './dataframe.ts';
import { SparkError } from './errors.ts';
import { type ExecuteOptions, type ExecuteStats, executePlan } from './execute.ts';
import {
  AnalyzePlanRequest_Explain_ExplainMode,
  type ExecutePlanResponse,
  InterruptRequest_InterruptType,
  type Plan,
  PlanSchema,
} from './gen/spark/connect/base_pb.js';
import { CommandSchema } from './gen/spark/connect/commands_pb.js';
import { type Relation, RelationSchema } from './gen/spark/connect/relations_pb.js';
import type { CallOpts, ExplainMode, PlanClient } from './plan-client.ts';
import { DataFrameReader } from './reader.ts';
import { Session } from './session.ts';
import { type SparkField, sparkFields } from './types.ts';

// an unreachable server must be reported within 10 s, the whole call included
export const CONNECT_TIMEOUT_MS = 8_000;

export interface ConnectOptions {
  /** how long connect() waits for the server's first answer (default 8 s: the error comes within 10 s) */
  timeoutMs?: number;
  /** user_context.user_id (default: the URL's user_id, else the OS user) */
  userId?: string;
  /** gives up connecting when aborted */
  signal?: AbortSignal;
}

export type { CallOpts, ExplainMode } from './plan-client.ts';

const EXPLAIN_MODES: Record<ExplainMode, AnalyzePlanRequest_Explain_ExplainMode> = {
  simple: AnalyzePlanRequest_Explain_ExplainMode.SIMPLE,
  extended: AnalyzePlanRequest_Explain_ExplainMode.EXTENDED,
  codegen: AnalyzePlanRequest_Explain_ExplainMode.CODEGEN,
  cost: AnalyzePlanRequest_Explain_ExplainMode.COST,
  formatted: AnalyzePlanRequest_Explain_ExplainMode.FORMATTED,
};

export class SparkConnectClient implements PlanClient {
  /** sc://host:port */
  readonly address: string;
  /** the server's Spark version, read on connect */
  readonly sparkVersion: string;
  /** what reattachable execution did over this client's life */
  readonly stats: ExecuteStats = { reattaches: 0, releases: 0 };
  private readonly session: Session;
  private closed = false;
  private planIds = 0n;

  private constructor(session: Session, sparkVersion: string) {
    this.session = session;
    this.address = session.address.display;
    this.sparkVersion = sparkVersion;
  }

  /**
   * Opens a session on the Spark Connect server at url (sc://HOST:PORT or spark://HOST:PORT) and
   * proves it answers (AnalyzePlan spark_version); an unreachable server fails within timeoutMs.
   */
  static async connect(url: string, opts: ConnectOptions = {}): Promise<SparkConnectClient> {
    const session = new Session(parseSparkAddress(url), opts.userId);
    const timeoutMs = opts.timeoutMs ?? CONNECT_TIMEOUT_MS;
    try {
      const r = await session.unary(
        'connect',
        (o) =>
          session.rpc.analyzePlan({ ...session.base(), analyze: { case: 'sparkVersion', value: {} } }, o),
        { timeoutMs, signal: opts.signal },
      );
      return new SparkConnectClient(session, r.result.case === 'sparkVersion' ? r.result.value.version : '');
    } catch (e) {
      session.closeTransport();
      if (opts.signal?.aborted) throw opts.signal.reason;
      // no answer at all; Spark's own refusals (a closed session id) pass as they are
      if (e instanceof SparkError && !e.errorClass && (e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT')) {
        const why =
          e.code === 'TIMEOUT'
            ? `nothing within ${timeoutMs / 1000} s`
            : describeError(e.cause).split('\n')[0];
        const where = session.address.display;
        throw new LakestreamError('UNAVAILABLE', `Spark Connect at ${where} does not answer (${why})`, {
          cause: e,
        });
      }
      throw e;
    }
  }

  /** A DataFrame reader: client.read.format('delta').load(path). */
  get read(): DataFrameReader {
    return new DataFrameReader(this);
  }

  /** A DataFrame over a SQL query (not run until collected). */
  sqlFrame(query: string): DataFrame {
    return DataFrame.of(this, { case: 'sql', value: { query } });
  }

  /** A DataFrame over a table of the session's catalog (or a temporary view). */
  table(name: string): DataFrame {
    return this.read.table(name);
  }

  /** Plan ids tell apart the relations of one plan (the two sides of a join name columns by them). */
  nextPlanId(): bigint {
    return this.planIds++;
  }

  /** This session's id (a UUID): Spark's UI and logs name it. */
  get sessionId(): string {
    return this.session.id;
  }

  get userId(): string {
    return this.session.userId;
  }

  /**
   * Runs one SQL statement and returns its rows: a query's result, or a command's output (CREATE VIEW,
   * INSERT, OPTIMIZE …, which run on this call). A statement that is plainly a query is executed as a
   * SQL relation in one round trip; any other goes, as Spark's own clients send it, as a SqlCommand:
   * Spark runs a command at once and answers with a relation to read its output from.
   */
  async sql(query: string, opts: CallOpts = {}): Promise<Table> {
    const relation = plainQuery(query) ? sqlRel(query) : await this.sqlRelation(query, opts);
    return this.collect(relation, { ...opts, query });
  }

  /** The relation a SQL statement stands for (a command already run: a local relation of its output). */
  async sqlRelation(query: string, opts: CallOpts = {}): Promise<Relation> {
    const plan = create(PlanSchema, {
      opType: {
        case: 'command',
        value: { commandType: { case: 'sqlCommand', value: { input: sqlRel(query) } } },
      },
    });
    for await (const r of this.execute(plan, { ...opts, query })) {
      if (r.responseType.case === 'sqlCommandResult' && r.responseType.value.relation) {
        return r.responseType.value.relation;
      }
    }
    throw new LakestreamError('INTERNAL', `Spark Connect at ${this.address} sent no sql_command_result`);
  }

  /** Executes a relation into an Arrow table. */
  collect(relation: Relation, opts: CallOpts & { query?: string } = {}): Promise<Table> {
    return tableFrom(this.execute(create(PlanSchema, { opType: { case: 'root', value: relation } }), opts));
  }

  /** Executes a command (a write, a view), draining its responses. */
  async command(
    command: MessageInitShape<typeof CommandSchema>,
    opts: CallOpts = {},
  ): Promise<ExecutePlanResponse[]> {
    const plan = create(PlanSchema, { opType: { case: 'command', value: create(CommandSchema, command) } });
    const out: ExecutePlanResponse[] = [];
    for await (const r of this.execute(plan, opts)) out.push(r);
    return out;
  }

  /** The responses of a plan, through a reattachable execution. */
  execute(plan: Plan, opts: ExecuteOptions = {}): AsyncGenerator<ExecutePlanResponse> {
    this.open();
    return executePlan(this.session, plan, opts, this.stats);
  }

  /** The columns a query would return, with Spark's type names. */
  async schema(query: string | Relation, opts: CallOpts = {}): Promise<SparkField[]> {
    const r = await this.analyze('schema', { case: 'schema', value: { plan: rootPlan(query) } }, opts, query);
    if (r.result.case !== 'schema' || !r.result.value.schema) throw this.unexpected('schema');
    return sparkFields(r.result.value.schema);
  }

  /** Spark's plan for a query, as EXPLAIN prints it. */
  async explain(
    query: string | Relation,
    mode: ExplainMode = 'simple',
    opts: CallOpts = {},
  ): Promise<string> {
    const r = await this.analyze(
      'explain',
      { case: 'explain', value: { plan: rootPlan(query), explainMode: EXPLAIN_MODES[mode] } },
      opts,
      query,
    );
    if (r.result.case !== 'explain') throw this.unexpected('explain');
    return r.result.value.explainString;
  }

  /** Sets session configuration (spark.sql.*), one key or many. */
  async setConf(key: string | Record<string, string>, value?: string, opts: CallOpts = {}): Promise<void> {
    const pairs =
      typeof key === 'string'
        ? [{ key, value: value ?? '' }]
        : Object.entries(key).map(([k, v]) => ({ key: k, value: v }));
    this.open();
    await this.session.unary(
      'config',
      (o) =>
        this.session.rpc.config(
          { ...this.session.base(), operation: { opType: { case: 'set', value: { pairs } } } },
          o,
        ),
      opts,
    );
  }

  /** A configuration value of the session, undefined when it is not set and has no default. */
  async getConf(key: string, opts: CallOpts = {}): Promise<string | undefined> {
    this.open();
    const r = await this.session.unary(
      'config',
      (o) =>
        this.session.rpc.config(
          { ...this.session.base(), operation: { opType: { case: 'getOption', value: { keys: [key] } } } },
          o,
        ),
      opts,
    );
    return r.pairs[0]?.value;
  }

  /** Interrupts every operation running in this session; returns their operation ids. */
  async interrupt(opts: CallOpts = {}): Promise<string[]> {
    this.open();
    const r = await this.session.unary(
      'interrupt',
      (o) =>
        this.session.rpc.interrupt(
          { ...this.session.base(), interruptType: InterruptRequest_InterruptType.ALL },
          o,
        ),
      opts,
    );
    return r.interruptedIds;
  }

  /** Interrupts one operation by its id (ExecutePlanResponse.operation_id). */
  async interruptOperation(operationId: string, opts: CallOpts = {}): Promise<string[]> {
    this.open();
    const r = await this.session.unary(
      'interrupt',
      (o) =>
        this.session.rpc.interrupt(
          {
            ...this.session.base(),
            interruptType: InterruptRequest_InterruptType.OPERATION_ID,
            interrupt: { case: 'operationId', value: operationId },
          },
          o,
        ),
      opts,
    );
    return r.interruptedIds;
  }

  /** Releases the session on the server (its views, config and cached results go) and the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.session.settle(2_000);
      await this.session.unary(
        'release session',
        (o) => this.session.rpc.releaseSession({ ...this.session.base(), allowReconnect: false }, o),
        { timeoutMs: 5_000 },
      );
    } finally {
      this.session.closeTransport();
    }
  }

  private analyze(
    what: string,
    analyze: Parameters<SparkConnectClient['session']['rpc']['analyzePlan']>[0]['analyze'],
    opts: CallOpts,
    query: string | Relation,
  ) {
    this.open();
    return this.session.unary(
      what,
      (o) => this.session.rpc.analyzePlan({ ...this.session.base(), analyze }, o),
      opts,
      typeof query === 'string' ? query : undefined,
    );
  }

  private open(): void {
    if (this.closed)
      throw new LakestreamError('BAD_ARGUMENT', `Spark Connect session to ${this.address} is closed`);
  }

  private unexpected(what: string): LakestreamError {
    return new LakestreamError(
      'INTERNAL',
      `Spark Connect at ${this.address} answered ${what} with something else`,
    );
  }
}

/**
 * A statement that can only be a query, by its first word past comments (WITH may lead to an INSERT);
 * the rest take the SqlCommand way, which also suits queries.
 */
function plainQuery(sql: string): boolean {
  const m = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*([A-Za-z]+|\()/.exec(sql);
  return ['SELECT', 'VALUES', 'FROM', 'TABLE', '('].includes((m?.[1] ?? '').toUpperCase());
}

/** Relation{sql}: a SQL query as a relation. */
export function sqlRel(query: string): Relation {
  return create(RelationSchema, { relType: { case: 'sql', value: { query } } });
}

function rootPlan(query: string | Relation): Plan {
  return create(PlanSchema, {
    opType: { case: 'root', value: typeof query === 'string' ? sqlRel(query) : query },
  });
}
