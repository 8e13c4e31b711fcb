// Reading through Spark's data sources: read.format('delta').load(path) makes a Read relation.

import { DataFrame } from './dataframe.ts';
import type { PlanClient } from './plan-client.ts';

export class DataFrameReader {
  private readonly client: PlanClient;
  private source?: string;
  private ddlSchema?: string;
  private readonly opts: Record<string, string> = {};

  constructor(client: PlanClient) {
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
