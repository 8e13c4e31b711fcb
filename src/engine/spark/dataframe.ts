// The DataFrame builder: each step wraps the relation before it in the generated Relation message
// (Read, Filter, Project, Aggregate, Join, Sort, Limit) — nothing runs until collect(), count() or a write.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Table } from 'apache-arrow';
import { LakestreamError } from '../../errors.ts';
import { Column, col, expr, fn, named } from './column.ts';
import type { Expression, Expression_SortOrder } from './gen/spark/connect/expressions_pb.js';
import {
  Aggregate_GroupType,
  Join_JoinType,
  type Relation,
  RelationSchema,
} from './gen/spark/connect/relations_pb.js';
import type { CallOpts, ExplainMode, PlanClient } from './plan-client.ts';
import type { SparkField } from './types.ts';
import { DataFrameWriter } from './writer.ts';

export type JoinHow = 'inner' | 'left' | 'right' | 'full' | 'semi' | 'anti' | 'cross';

const JOIN_TYPES: Record<JoinHow, Join_JoinType> = {
  inner: Join_JoinType.INNER,
  left: Join_JoinType.LEFT_OUTER,
  right: Join_JoinType.RIGHT_OUTER,
  full: Join_JoinType.FULL_OUTER,
  semi: Join_JoinType.LEFT_SEMI,
  anti: Join_JoinType.LEFT_ANTI,
  cross: Join_JoinType.CROSS,
};

type RelType = MessageInitShape<typeof RelationSchema>['relType'];

export class DataFrame {
  readonly client: PlanClient;
  readonly relation: Relation;

  constructor(client: PlanClient, relation: Relation) {
    this.client = client;
    this.relation = relation;
  }

  /** Builds a relation on this one, with a fresh plan id (columns of one DataFrame name it in joins). */
  static of(client: PlanClient, relType: RelType): DataFrame {
    return new DataFrame(
      client,
      create(RelationSchema, { common: { planId: client.nextPlanId() }, relType }),
    );
  }

  /** This DataFrame's column by name, distinct from a same-named column of another side of a join. */
  col(name: string): Column {
    return col(name, this.relation.common?.planId);
  }

  /** Rows where the condition holds; a string is a SQL condition ('value > 0 AND day >= DATE"2013-01-01"'). */
  filter(condition: string | Column): DataFrame {
    const c = typeof condition === 'string' ? expr(condition) : condition;
    return this.next({ case: 'filter', value: { input: this.relation, condition: c.expr } });
  }

  where(condition: string | Column): DataFrame {
    return this.filter(condition);
  }

  /** Columns by name ('*' for all) or Columns (col('a').as('b'), fn.sum('x')). */
  select(...columns: (string | Column)[]): DataFrame {
    return this.project(columns.map((c) => named(c).expr));
  }

  /** Columns as SQL expressions: selectExpr('meter_id', 'kwh * 1000 AS wh'). */
  selectExpr(...sql: string[]): DataFrame {
    return this.project(sql.map((s) => expr(s).expr));
  }

  /** Groups by columns (names or Columns); agg() on the result aggregates. */
  groupBy(...columns: (string | Column)[]): GroupedData {
    return new GroupedData(
      this,
      columns.map((c) => named(c).expr),
    );
  }

  /** Aggregates over all rows: df.agg(fn.count(), fn.sum('kwh')). */
  agg(...aggregates: (string | Column)[]): DataFrame {
    return this.groupBy().agg(...aggregates);
  }

  /**
   * Joins with another DataFrame: on column names both sides have (USING), or a condition
   * (a.col('id').eq(b.col('id')), or SQL text over unambiguous names).
   */
  join(other: DataFrame, on?: string | string[] | Column, how: JoinHow = 'inner'): DataFrame {
    const using = typeof on === 'string' ? [on] : Array.isArray(on) ? on : [];
    const condition = on instanceof Column ? on.expr : undefined;
    return this.next({
      case: 'join',
      value: {
        left: this.relation,
        right: other.relation,
        joinType: JOIN_TYPES[how],
        usingColumns: using,
        joinCondition: condition,
      },
    });
  }

  /** Sorts by columns: a name sorts ascending, col('x').desc() descending. */
  orderBy(...columns: (string | Column)[]): DataFrame {
    const order = columns.map((c) => sortOrderOf(named(c)));
    return this.next({ case: 'sort', value: { input: this.relation, order, isGlobal: true } });
  }

  sort(...columns: (string | Column)[]): DataFrame {
    return this.orderBy(...columns);
  }

  limit(n: number): DataFrame {
    return this.next({ case: 'limit', value: { input: this.relation, limit: n } });
  }

  /** Runs the plan: every row, as one Arrow table. */
  collect(opts: CallOpts = {}): Promise<Table> {
    return this.client.collect(this.relation, opts);
  }

  /** The number of rows (a count(*) over this plan). */
  async count(opts: CallOpts = {}): Promise<number> {
    const t = await this.agg(fn.count().as('count')).collect(opts);
    return Number(t.getChildAt(0)?.get(0));
  }

  schema(opts: CallOpts = {}): Promise<SparkField[]> {
    return this.client.schema(this.relation, opts);
  }

  explain(mode: ExplainMode = 'simple', opts: CallOpts = {}): Promise<string> {
    return this.client.explain(this.relation, mode, opts);
  }

  /** A temporary view of this plan in the session, for SQL to read. */
  async createOrReplaceTempView(name: string, opts: CallOpts = {}): Promise<void> {
    await this.client.command(
      {
        commandType: {
          case: 'createDataframeView',
          value: { input: this.relation, name, isGlobal: false, replace: true },
        },
      },
      opts,
    );
  }

  get write(): DataFrameWriter {
    return new DataFrameWriter(this.client, this.relation);
  }

  private project(expressions: Expression[]): DataFrame {
    return this.next({ case: 'project', value: { input: this.relation, expressions } });
  }

  private next(relType: RelType): DataFrame {
    return DataFrame.of(this.client, relType);
  }
}

export class GroupedData {
  private readonly df: DataFrame;
  private readonly grouping: Expression[];

  constructor(df: DataFrame, grouping: Expression[]) {
    this.df = df;
    this.grouping = grouping;
  }

  /** Aggregates per group: Columns (fn.sum('kwh').as('kwh')) or SQL text ('sum(kwh) AS kwh'). */
  agg(...aggregates: (string | Column)[]): DataFrame {
    return DataFrame.of(this.df.client, {
      case: 'aggregate',
      value: {
        input: this.df.relation,
        groupType: Aggregate_GroupType.GROUPBY,
        groupingExpressions: this.grouping,
        aggregateExpressions: aggregates.map((a) => (typeof a === 'string' ? expr(a) : a).expr),
      },
    });
  }

  count(): DataFrame {
    return this.agg(fn.count().as('count'));
  }
}

/** A Column as a sort order: as it is when it is one (desc()), else ascending. */
function sortOrderOf(c: Column): Expression_SortOrder {
  const t = (c.expr.exprType.case === 'sortOrder' ? c : c.asc()).expr.exprType;
  if (t.case !== 'sortOrder') throw new LakestreamError('INTERNAL', 'asc() made no sort order');
  return t.value;
}
