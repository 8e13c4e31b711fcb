// Writing through Spark's data sources: df.write.format('delta').mode('append').save(path) runs a
// WriteOperation command (reading is ./reader.ts).

import { DataSourceOptions } from './data-source.ts';
import {
  WriteOperation_SaveMode,
  WriteOperation_SaveTable_TableSaveMethod,
} from './gen/spark/connect/commands_pb.js';
import type { Relation } from './gen/spark/connect/relations_pb.js';
import type { CallOpts, PlanClient } from './plan-client.ts';

export type SaveMode = 'append' | 'overwrite' | 'error' | 'errorifexists' | 'ignore';

const SAVE_MODES: Record<SaveMode, WriteOperation_SaveMode> = {
  append: WriteOperation_SaveMode.APPEND,
  overwrite: WriteOperation_SaveMode.OVERWRITE,
  error: WriteOperation_SaveMode.ERROR_IF_EXISTS,
  errorifexists: WriteOperation_SaveMode.ERROR_IF_EXISTS,
  ignore: WriteOperation_SaveMode.IGNORE,
};

export class DataFrameWriter extends DataSourceOptions {
  private readonly client: PlanClient;
  private readonly input: Relation;
  private saveMode: SaveMode = 'error';
  private partitioning: string[] = [];

  constructor(client: PlanClient, input: Relation) {
    super();
    this.client = client;
    this.input = input;
  }

  /** What happens when the target exists (default 'error', as in Spark). */
  mode(mode: SaveMode): this {
    this.saveMode = mode;
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
