// Spark ML over Spark Connect's ML commands (ml.proto): fit an estimator into a model the server keeps
// (an object reference), fetch its attributes, save it with Spark's own ML writer, load it back, free it.

import { create } from '@bufbuild/protobuf';
import { LakestreamError } from '../../errors.ts';
import type { SparkConnectClient } from './client.ts';
import { DataFrame } from './dataframe.ts';
import { type Expression_Literal, Expression_LiteralSchema } from './gen/spark/connect/expressions_pb.js';
import { MlOperator_OperatorType } from './gen/spark/connect/ml_common_pb.js';
import {
  type MlCommand,
  MlCommand_DeleteSchema,
  MlCommand_FitSchema,
  MlCommand_ReadSchema,
  MlCommand_WriteSchema,
  type MlCommandResult,
} from './gen/spark/connect/ml_pb.js';
import { FetchSchema } from './gen/spark/connect/relations_pb.js';

/** A param value: whole numbers go as int unless given as bigint (long); other numbers as double. */
export type MlParamValue = number | bigint | string | boolean | { double: number };

/** A fitted model held by the server's ML cache, named by its object reference. */
export interface MlModelRef {
  id: string;
}

/** A decoded literal: numbers, strings, booleans, arrays of them (vectors and matrices arrive as structs). */
export type MlValue = null | number | bigint | string | boolean | MlValue[];

export function mlLiteral(v: MlParamValue): Expression_Literal {
  const lt: Expression_Literal['literalType'] =
    typeof v === 'bigint'
      ? { case: 'long', value: v }
      : typeof v === 'string'
        ? { case: 'string', value: v }
        : typeof v === 'boolean'
          ? { case: 'boolean', value: v }
          : typeof v === 'object'
            ? { case: 'double', value: v.double }
            : Number.isInteger(v)
              ? { case: 'integer', value: v }
              : { case: 'double', value: v };
  return create(Expression_LiteralSchema, { literalType: lt });
}

/** A literal Spark answered with, as plain values (struct fields in order, as an array). */
export function fromLiteral(l: Expression_Literal | undefined): MlValue {
  const t = l?.literalType;
  switch (t?.case) {
    case undefined:
    case 'null':
      return null;
    case 'array':
    case 'struct':
      return t.value.elements.map(fromLiteral);
    case 'specializedArray': {
      const s = t.value.valueType;
      return s.case === undefined ? [] : ([...s.value.values] as MlValue[]);
    }
    case 'boolean':
    case 'byte':
    case 'short':
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
      return t.value;
    default:
      throw new LakestreamError(
        'UNSUPPORTED',
        `Spark ML answered a ${t?.case} literal, which lakestream does not read`,
      );
  }
}

/** Runs one ML command and returns its result. */
async function mlCommand(
  client: SparkConnectClient,
  command: MlCommand['command'],
): Promise<MlCommandResult> {
  const out = await client.command({ commandType: { case: 'mlCommand', value: { command } } });
  for (const r of out) if (r.responseType.case === 'mlCommandResult') return r.responseType.value;
  throw new LakestreamError('INTERNAL', `Spark Connect at ${client.address} sent no ml_command_result`);
}

const params = (p: Record<string, MlParamValue>) => ({
  params: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, mlLiteral(v)])),
});

/** Fits the estimator (a Spark ML class name) on the dataset; the model stays on the server. */
export async function mlFit(
  client: SparkConnectClient,
  estimator: string,
  paramValues: Record<string, MlParamValue>,
  dataset: DataFrame,
): Promise<MlModelRef> {
  const r = await mlCommand(client, {
    case: 'fit',
    value: create(MlCommand_FitSchema, {
      estimator: {
        name: estimator,
        uid: `lakestream_${crypto.randomUUID().slice(0, 8)}`,
        type: MlOperator_OperatorType.ESTIMATOR,
      },
      params: params(paramValues),
      dataset: dataset.relation,
    }),
  });
  return objRefOf(r, client, 'fit');
}

/** Calls a chain of attributes/methods on a model (e.g. ['summary', 'logLikelihood']) and returns the value. */
export async function mlFetch(
  client: SparkConnectClient,
  ref: MlModelRef,
  methods: string[],
): Promise<MlValue> {
  const r = await mlCommand(client, {
    case: 'fetch',
    value: create(FetchSchema, {
      objRef: { id: ref.id },
      methods: methods.map((method) => ({ method, args: [] })),
    }),
  });
  if (r.resultType.case === 'param') return fromLiteral(r.resultType.value);
  if (r.resultType.case === 'summary') return r.resultType.value;
  throw new LakestreamError(
    'INTERNAL',
    `Spark ML answered ${methods.join('.')} with ${r.resultType.case ?? 'nothing'}`,
  );
}

/** A DataFrame a model's method returns (e.g. GaussianMixtureModel.gaussiansDF), read like any other. */
export function mlFetchFrame(client: SparkConnectClient, ref: MlModelRef, methods: string[]): DataFrame {
  return DataFrame.of(client, {
    case: 'mlRelation',
    value: {
      mlType: {
        case: 'fetch',
        value: { objRef: { id: ref.id }, methods: methods.map((method) => ({ method, args: [] })) },
      },
    },
  });
}

/** Saves the model with Spark's own ML writer (metadata/ and data/ under path; a user loads it with Spark). */
export async function mlWrite(
  client: SparkConnectClient,
  ref: MlModelRef,
  path: string,
  overwrite = false,
): Promise<void> {
  await mlCommand(client, {
    case: 'write',
    value: create(MlCommand_WriteSchema, {
      type: { case: 'objRef', value: { id: ref.id } },
      path,
      shouldOverwrite: overwrite,
    }),
  });
}

/** Loads a saved model (its Spark class name, e.g. org.apache.spark.ml.clustering.GaussianMixtureModel). */
export async function mlRead(
  client: SparkConnectClient,
  modelClass: string,
  path: string,
): Promise<MlModelRef> {
  const r = await mlCommand(client, {
    case: 'read',
    value: create(MlCommand_ReadSchema, {
      operator: { name: modelClass, uid: '', type: MlOperator_OperatorType.MODEL },
      path,
    }),
  });
  return objRefOf(r, client, 'read');
}

/** Frees models from the server's ML cache (best effort: the session's end frees them too). */
export async function mlDelete(client: SparkConnectClient, refs: MlModelRef[]): Promise<void> {
  if (refs.length === 0) return;
  await mlCommand(client, {
    case: 'delete',
    value: create(MlCommand_DeleteSchema, {
      objRefs: refs.map((r) => ({ id: r.id })),
    }),
  });
}

function objRefOf(r: MlCommandResult, client: SparkConnectClient, what: string): MlModelRef {
  if (r.resultType.case === 'operatorInfo' && r.resultType.value.type.case === 'objRef')
    return { id: r.resultType.value.type.value.id };
  throw new LakestreamError(
    'INTERNAL',
    `Spark Connect at ${client.address} answered ML ${what} without a model`,
  );
}
