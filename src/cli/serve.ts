// `lakestream serve`: the HTTP API and the dashboard over a lake (read only).

import {
  engineOption,
  engineSetting,
  lakeOption,
  lakeUrl,
  transportOption,
  transportUrl,
} from '../config/settings.ts';
import { LakestreamError } from '../errors.ts';
import { startServer } from '../serve/server.ts';
import { defineCommand, numberOption } from './command.ts';

export default defineCommand({
  name: 'serve',
  summary: 'serve the HTTP API and the dashboard',
  usage:
    'serve [--port 3000] [--host 127.0.0.1] [--token T] [--engine duckdb|spark[://HOST:PORT]] [--lake URL] [--transport URL]',
  description: `
Serves the dashboard (consumption, forecast, live pipeline, SQL explorer), the JSON API under /api/,
server-sent events at /api/pipeline/stream and Prometheus metrics at /metrics. Everything is read-only.
The API's queries and the SQL explorer run on --engine: DuckDB in this process (the default), or
Spark over Spark Connect (Explore then takes SQL that both DuckDB's parser and Spark read).

Binds 127.0.0.1 by default. Any other --host (e.g. 0.0.0.0) requires a token, given by --token or the
LAKESTREAM_TOKEN environment variable; then every page and API request must carry it
("Authorization: Bearer T", or open http://HOST:PORT/?token=T once in a browser).`,
  options: {
    port: { type: 'string', value: 'N', default: '3000', help: 'TCP port (0 picks a free one)' },
    host: {
      type: 'string',
      value: 'ADDR',
      default: '127.0.0.1',
      help: 'address to bind; non-loopback needs a token',
    },
    token: { type: 'string', value: 'T', help: 'require this token on every request (env LAKESTREAM_TOKEN)' },
    group: {
      type: 'string',
      value: 'ID',
      default: 'lakestream-meters',
      help: 'consumer group whose lag the live page shows',
    },
    ...lakeOption,
    ...transportOption,
    ...engineOption,
  },
  async run({ values }) {
    const port = numberOption('port', values.port, 3000, { min: 0, integer: true });
    if (port > 65535) throw new LakestreamError('BAD_ARGUMENT', `--port must be at most 65535, got ${port}`);
    const token = values.token ?? process.env.LAKESTREAM_TOKEN;
    const server = await startServer({
      port,
      host: values.host,
      token,
      lake: lakeUrl(values.lake),
      transport: transportUrl(values.transport),
      group: values.group,
      engine: engineSetting(values.engine),
    });
    // the handlers are in place before the URL is printed: whoever waits for the URL may stop us at once
    const stopped = new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.stderr.write(
      `lakestream serve: dashboard at ${server.url}/ (lake ${lakeUrl(values.lake)}, engine ${engineSetting(values.engine)})${token ? ' — token required' : ''}\n`,
    );
    await stopped;
    process.stderr.write('lakestream serve: stopping\n');
    await server.close();
    return 0;
  },
});
