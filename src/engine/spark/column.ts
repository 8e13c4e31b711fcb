// Columns of the DataFrame builder: Spark Connect Expressions made from names (col), SQL text (expr),
// values (lit) and functions (fn.sum …); what select, filter, agg, join and orderBy take.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  type Expression,
  type Expression_Literal,
  Expression_LiteralSchema,
  Expression_SortOrder_NullOrdering,
  Expression_SortOrder_SortDirection,
  ExpressionSchema,
} from './gen/spark/connect/expressions_pb.js';

export type LiteralValue = null | boolean | number | bigint | string | Uint8Array | Date;

export class Column {
  readonly expr: Expression;

  constructor(expr: Expression) {
    this.expr = expr;
  }

  /** The column under another name (AS). */
  as(name: string): Column {
    return new Column(
      create(ExpressionSchema, { exprType: { case: 'alias', value: { expr: this.expr, name: [name] } } }),
    );
  }

  asc(nulls: 'first' | 'last' = 'first'): Column {
    return this.order(Expression_SortOrder_SortDirection.ASCENDING, nulls);
  }

  desc(nulls: 'first' | 'last' = 'last'): Column {
    return this.order(Expression_SortOrder_SortDirection.DESCENDING, nulls);
  }

  eq(other: Column | LiteralValue): Column {
    return call('==', this, other);
  }
  ne(other: Column | LiteralValue): Column {
    return call('!=', this, other);
  }
  gt(other: Column | LiteralValue): Column {
    return call('>', this, other);
  }
  ge(other: Column | LiteralValue): Column {
    return call('>=', this, other);
  }
  lt(other: Column | LiteralValue): Column {
    return call('<', this, other);
  }
  le(other: Column | LiteralValue): Column {
    return call('<=', this, other);
  }
  and(other: Column): Column {
    return call('and', this, other);
  }
  or(other: Column): Column {
    return call('or', this, other);
  }
  plus(other: Column | LiteralValue): Column {
    return call('+', this, other);
  }
  minus(other: Column | LiteralValue): Column {
    return call('-', this, other);
  }
  times(other: Column | LiteralValue): Column {
    return call('*', this, other);
  }
  div(other: Column | LiteralValue): Column {
    return call('/', this, other);
  }
  isNull(): Column {
    return call('isnull', this);
  }
  isNotNull(): Column {
    return call('isnotnull', this);
  }

  private order(direction: Expression_SortOrder_SortDirection, nulls: 'first' | 'last'): Column {
    const nullOrdering =
      nulls === 'first'
        ? Expression_SortOrder_NullOrdering.SORT_NULLS_FIRST
        : Expression_SortOrder_NullOrdering.SORT_NULLS_LAST;
    return new Column(
      create(ExpressionSchema, {
        exprType: { case: 'sortOrder', value: { child: this.expr, direction, nullOrdering } },
      }),
    );
  }
}

/** A column by name ('a', 't.a', '`odd name`'); '*' is every column. planId ties it to one DataFrame. */
export function col(name: string, planId?: bigint): Column {
  if (name === '*')
    return new Column(create(ExpressionSchema, { exprType: { case: 'unresolvedStar', value: {} } }));
  return new Column(
    create(ExpressionSchema, {
      exprType: { case: 'unresolvedAttribute', value: { unparsedIdentifier: name, planId } },
    }),
  );
}

/** A SQL expression, parsed by Spark: expr('kwh * 2 AS wh'), expr('sum(kwh)'). */
export function expr(sql: string): Column {
  return new Column(
    create(ExpressionSchema, { exprType: { case: 'expressionString', value: { expression: sql } } }),
  );
}

/** A value: a JS number is an integer literal when it is a safe integer, else a double. */
export function lit(value: LiteralValue): Column {
  return new Column(create(ExpressionSchema, { exprType: { case: 'literal', value: literal(value) } }));
}

/** Spark SQL's function name applied to columns: fn.call('date_trunc', lit('month'), col('ts')). */
export function call(name: string, ...args: (Column | LiteralValue)[]): Column {
  return new Column(
    create(ExpressionSchema, {
      exprType: {
        case: 'unresolvedFunction',
        value: { functionName: name, arguments: args.map((a) => toColumn(a).expr) },
      },
    }),
  );
}

/** Aggregates and a few common functions; fn.call for any other. */
export const fn = {
  call,
  sum: (c: Column | string) => call('sum', named(c)),
  avg: (c: Column | string) => call('avg', named(c)),
  min: (c: Column | string) => call('min', named(c)),
  max: (c: Column | string) => call('max', named(c)),
  count: (c: Column | string = lit(1)) => call('count', named(c)),
  countDistinct: (c: Column | string) =>
    new Column(
      create(ExpressionSchema, {
        exprType: {
          case: 'unresolvedFunction',
          value: { functionName: 'count', arguments: [named(c).expr], isDistinct: true },
        },
      }),
    ),
};

/** A string is a column name here (as in select, groupBy, orderBy). */
export function named(c: Column | string): Column {
  return typeof c === 'string' ? col(c) : c;
}

function toColumn(v: Column | LiteralValue): Column {
  return v instanceof Column ? v : lit(v);
}

function literal(v: LiteralValue): Expression_Literal {
  const l = (literalType: MessageInitShape<typeof Expression_LiteralSchema>['literalType']) =>
    create(Expression_LiteralSchema, { literalType });
  if (v === null) return l({ case: 'null', value: { kind: { case: 'null', value: {} } } });
  if (typeof v === 'boolean') return l({ case: 'boolean', value: v });
  if (typeof v === 'bigint') return l({ case: 'long', value: v });
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      return v >= -(2 ** 31) && v < 2 ** 31
        ? l({ case: 'integer', value: v })
        : l({ case: 'long', value: BigInt(v) });
    }
    return l({ case: 'double', value: v });
  }
  if (typeof v === 'string') return l({ case: 'string', value: v });
  if (v instanceof Date) return l({ case: 'timestamp', value: BigInt(v.getTime()) * 1000n }); // microseconds
  return l({ case: 'binary', value: v });
}
