// Reading through Spark's data sources: read.format('delta').load(path) makes a Read relation.

import { DataSourceOptions } from './data-source.ts';
import { DataFrame } from './dataframe.ts';
import type { PlanClient } from './plan-client.ts';

export class DataFrameReader extends DataSourceOptions {
  private readonly client: PlanClient;
  private ddlSchema?: string;

  constructor(client: PlanClient) {
    super();
    this.client = client;
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
