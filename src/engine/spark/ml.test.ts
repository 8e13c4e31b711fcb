// ML command values: params go out as Spark's literal types, answers come back as plain values.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Expression_LiteralSchema } from './gen/spark/connect/expressions_pb.js';
import { fromLiteral, mlLiteral } from './ml.ts';

describe('Spark ML literals', () => {
  it('sends whole numbers as int, bigints as long, other numbers and {double} as double', () => {
    assert.equal(mlLiteral(3).literalType.case, 'integer');
    assert.equal(mlLiteral(3n).literalType.case, 'long');
    assert.equal(mlLiteral(0.5).literalType.case, 'double');
    assert.deepEqual(mlLiteral({ double: 2 }).literalType, { case: 'double', value: 2 });
    assert.equal(mlLiteral('full').literalType.case, 'string');
    assert.equal(mlLiteral(true).literalType.case, 'boolean');
  });

  it('reads arrays, structs and specialised arrays back as plain arrays', () => {
    const d = (v: number) => create(Expression_LiteralSchema, { literalType: { case: 'double', value: v } });
    const array = create(Expression_LiteralSchema, {
      literalType: { case: 'array', value: { elements: [d(0.25), d(0.75)] } },
    });
    assert.deepEqual(fromLiteral(array), [0.25, 0.75]);
    const special = create(Expression_LiteralSchema, {
      literalType: {
        case: 'specializedArray',
        value: { valueType: { case: 'doubles', value: { values: [1, 2] } } },
      },
    });
    assert.deepEqual(fromLiteral(special), [1, 2]);
    assert.equal(fromLiteral(undefined), null);
  });
});
