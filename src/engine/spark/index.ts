// The Spark Connect client's front door: connect to a Spark Connect server, run SQL and DataFrame plans
// into apache-arrow Tables; errors are SparkErrors (LakestreamErrors carrying Spark's error class).

export { DEFAULT_PORT, parseSparkAddress, type SparkAddress } from './address.ts';
export { type CallOpts, type ConnectOptions, type ExplainMode, SparkConnectClient } from './client.ts';
export { Column, call, col, expr, fn, type LiteralValue, lit } from './column.ts';
export { DataFrame, GroupedData, type JoinHow } from './dataframe.ts';
export { DEFAULT_HDFS_RPC_PORT, SparkEngine, type SparkEngineOptions, sparkLakeRoot } from './engine.ts';
export { codeForSpark, isSparkError, SparkError, type SparkQueryContext } from './errors.ts';
export type { ExecuteStats } from './execute.ts';
export {
  fromLiteral,
  type MlModelRef,
  type MlParamValue,
  type MlValue,
  mlDelete,
  mlFetch,
  mlFetchFrame,
  mlFit,
  mlLiteral,
  mlRead,
  mlWrite,
} from './ml.ts';
export { DataFrameReader } from './reader.ts';
export { type SparkField, sparkTypeName } from './types.ts';
export { DataFrameWriter, type SaveMode } from './writer.ts';
