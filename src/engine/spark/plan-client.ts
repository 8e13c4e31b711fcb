// What a DataFrame, its reader and its writer need of the client that runs their plans. The client
// (./client.ts) implements it and makes DataFrames, so they depend on this and not on the client.

import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Table } from 'apache-arrow';
import type { ExecutePlanResponse } from './gen/spark/connect/base_pb.js';
import type { CommandSchema } from './gen/spark/connect/commands_pb.js';
import type { Relation } from './gen/spark/connect/relations_pb.js';
import type { SparkField } from './types.ts';

export interface CallOpts {
  signal?: AbortSignal;
}

export type ExplainMode = 'simple' | 'extended' | 'codegen' | 'cost' | 'formatted';

export interface PlanClient {
  /** a fresh plan id for a relation's `common.planId` */
  nextPlanId(): bigint;
  /** runs a relation and gathers its rows */
  collect(relation: Relation, opts?: CallOpts & { query?: string }): Promise<Table>;
  /** executes a command (a write, a view), draining its responses */
  command(command: MessageInitShape<typeof CommandSchema>, opts?: CallOpts): Promise<ExecutePlanResponse[]>;
  /** the columns a query would return, with Spark's type names */
  schema(query: string | Relation, opts?: CallOpts): Promise<SparkField[]>;
  /** Spark's plan for a query, as EXPLAIN prints it */
  explain(query: string | Relation, mode?: ExplainMode, opts?: CallOpts): Promise<string>;
}
