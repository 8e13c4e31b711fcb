// Reading and writing through Spark's data sources: read.format('delta').load(path) makes a Read relation,
// df.write.format('delta').mode('append').save(path) runs a WriteOperation command.

import type { CallOpts, SparkConnectClient } from './client.ts';
import { DataFrame } from './dataframe.ts';
import {
  WriteOperation_SaveMode,
  WriteOperation_SaveTable_TableSaveMethod,
} from './gen/spark/connect/commands_pb.js';
import type { Relation } from './gen/spark/connect/relations_pb.js';

export type SaveMode = 'append' | 'overwrite' | 'error' | 'errorifexists' | 'ignore';

const SAVE_MODES: Record<SaveMode, WriteOperation_SaveMode> = {
  append: WriteOperation_SaveMode.APPEND,
  overwrite: WriteOperation_SaveMode.OVERWRITE,
  error: WriteOperation_SaveMode.ERROR_IF_EXISTS,
  errorifexists: WriteOperation_SaveMode.ERROR_IF_EXISTS,
  ignore: WriteOperation_SaveMode.IGNORE,
};

export class DataFrameReader {
  private readonly client: SparkConnectClient;
  private source?: string;
  private ddlSchema?: string;
  private readonly opts: Record<string, string> = {};

  constructor(client: SparkConnectClient) {
    this.client = client;
  }

  format(source: string): this {
    this.source = source;
    return this;
  }

  option(key: string, value: string | number | boolean): this {
    this.opts[key] = String(value);
    return this;
  }

  options(options: Record<string, string | number | boolean>): this {
    for (const [k, v] of Object.entries(options)) this.option(k, v);
    return this;
  }

  /** The schema to read with, as DDL ('id BIGINT, name STRING'); most sources infer it. */
  schema(ddl: string): this {
    this.ddlSchema = ddl;
    return this;
  }

  /** Reads the source at one or more paths (file:///…, hdfs://…), or a source that takes no path. */
  load(...paths: string[]): DataFrame {
    return DataFrame.of(this.client, {
      case: 'read',
      value: {
        readType: {
          case: 'dataSource',
          value: { format: this.source, schema: this.ddlSchema, options: this.opts, paths },
        },
      },
    });
  }

  /** Reads a table of the session's catalog by name. */
  table(name: string): DataFrame {
    return DataFrame.of(this.client, {
      case: 'read',
      value: { readType: { case: 'namedTable', value: { unparsedIdentifier: name, options: this.opts } } },
    });
  }
}

export class DataFrameWriter {
  private readonly client: SparkConnectClient;
  private readonly input: Relation;
  private source?: string;
  private saveMode: SaveMode = 'error';
  private readonly opts: Record<string, string> = {};
  private partitioning: string[] = [];

  constructor(client: SparkConnectClient, input: Relation) {
    this.client = client;
    this.input = input;
  }

  format(source: string): this {
    this.source = source;
    return this;
  }

  /** What happens when the target exists (default 'error', as in Spark). */
  mode(mode: SaveMode): this {
    this.saveMode = mode;
    return this;
  }

  option(key: string, value: string | number | boolean): this {
    this.opts[key] = String(value);
    return this;
  }

  options(options: Record<string, string | number | boolean>): this {
    for (const [k, v] of Object.entries(options)) this.option(k, v);
    return this;
  }

  partitionBy(...columns: string[]): this {
    this.partitioning = columns;
    return this;
  }

  /** Writes to a path; resolves when Spark has committed it. */
  async save(path: string, opts: CallOpts = {}): Promise<void> {
    await this.run({ case: 'path', value: path }, opts);
  }

  /** Writes to a table of the catalog, creating it (saveAsTable) or inserting into it (insertInto). */
  async saveAsTable(name: string, opts: CallOpts = {}): Promise<void> {
    await this.run(
      {
        case: 'table',
        value: { tableName: name, saveMethod: WriteOperation_SaveTable_TableSaveMethod.SAVE_AS_TABLE },
      },
      opts,
    );
  }

  async insertInto(name: string, opts: CallOpts = {}): Promise<void> {
    await this.run(
      {
        case: 'table',
        value: { tableName: name, saveMethod: WriteOperation_SaveTable_TableSaveMethod.INSERT_INTO },
      },
      opts,
    );
  }

  private async run(
    saveType:
      | { case: 'path'; value: string }
      | { case: 'table'; value: { tableName: string; saveMethod: WriteOperation_SaveTable_TableSaveMethod } },
    opts: CallOpts,
  ): Promise<void> {
    await this.client.command(
      {
        commandType: {
          case: 'writeOperation',
          value: {
            input: this.input,
            source: this.source,
            saveType,
            mode: SAVE_MODES[this.saveMode],
            options: this.opts,
            partitioningColumns: this.partitioning,
          },
        },
      },
      opts,
    );
  }
}
