// What reading and writing through a Spark data source share: the source's format and its options.

export abstract class DataSourceOptions {
  protected source?: string;
  protected readonly opts: Record<string, string> = {};

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
}
