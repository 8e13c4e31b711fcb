// /metrics in the Prometheus text format (version 0.0.4): the server's own counters and the pipeline's.

import type { PipelineSnapshot } from './data/pipeline.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ServerMetrics {
  private readonly requests = new Map<string, number>();
  private readonly durations = new Map<string, { buckets: number[]; sum: number; count: number }>();
  sseClients = 0;
  readonly startedAt = Date.now();

  observe(route: string, status: number, seconds: number): void {
    const key = `${route}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    let d = this.durations.get(route);
    if (!d) {
      d = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(route, d);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) d.buckets[i]++;
    d.sum += seconds;
    d.count++;
  }

  render(p: PipelineSnapshot | undefined): string {
    const out: string[] = [];
    const esc = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
    const help = (name: string, type: string, text: string) =>
      out.push(`# HELP ${name} ${text}`, `# TYPE ${name} ${type}`);

    help('lakestream_http_requests_total', 'counter', 'HTTP requests served, by route and status.');
    for (const [key, n] of this.requests) {
      const [route, status] = key.split('\u0000');
      out.push(`lakestream_http_requests_total{route="${esc(route)}",status="${status}"} ${n}`);
    }
    help('lakestream_http_request_duration_seconds', 'histogram', 'Time to answer a request, by route.');
    for (const [route, d] of this.durations) {
      for (let i = 0; i < BUCKETS.length; i++)
        out.push(
          `lakestream_http_request_duration_seconds_bucket{route="${esc(route)}",le="${BUCKETS[i]}"} ${d.buckets[i]}`,
        );
      out.push(`lakestream_http_request_duration_seconds_bucket{route="${esc(route)}",le="+Inf"} ${d.count}`);
      out.push(`lakestream_http_request_duration_seconds_sum{route="${esc(route)}"} ${d.sum}`);
      out.push(`lakestream_http_request_duration_seconds_count{route="${esc(route)}"} ${d.count}`);
    }
    help('lakestream_sse_clients', 'gauge', 'Open server-sent event streams.');
    out.push(`lakestream_sse_clients ${this.sseClients}`);
    help('lakestream_server_start_time_seconds', 'gauge', 'When the server started.');
    out.push(`lakestream_server_start_time_seconds ${this.startedAt / 1000}`);
    if (p) {
      for (const [name, key, text] of [
        ['lakestream_stream_read_total', 'read', 'Messages read by the stream workers.'],
        ['lakestream_stream_accepted_total', 'accepted', 'Readings accepted into the lake.'],
        ['lakestream_stream_quarantined_total', 'quarantined', 'Messages sent to quarantine.'],
        ['lakestream_stream_duplicates_total', 'duplicates', 'Duplicate readings dropped.'],
      ] as const) {
        help(name, 'counter', text);
        for (const w of p.workers) out.push(`${name}{worker="${esc(w.worker)}"} ${Number(w[key]) || 0}`);
      }
      help('lakestream_consumer_lag', 'gauge', 'Messages not yet committed by the group, per partition.');
      for (const l of p.lag ?? [])
        out.push(
          `lakestream_consumer_lag{topic="${esc(p.topic)}",group="${esc(p.group)}",partition="${l.partition}"} ${l.lag}`,
        );
      help(
        'lakestream_end_to_end_latency_ms',
        'gauge',
        'Reading sent to row committed, worst worker, by quantile.',
      );
      for (const q of ['p50', 'p95', 'p99'] as const)
        if (p.latency_ms[q] !== null)
          out.push(`lakestream_end_to_end_latency_ms{quantile="0.${q.slice(1)}"} ${p.latency_ms[q]}`);
      help('lakestream_quarantine_reason_total', 'counter', 'Quarantined messages by reason.');
      for (const [r, n] of Object.entries(p.quarantine.reasons))
        out.push(`lakestream_quarantine_reason_total{reason="${esc(r)}"} ${n}`);
      help('lakestream_model_version', 'gauge', 'Model version the stream predicts with (-1: none).');
      out.push(`lakestream_model_version ${p.model_version ?? -1}`);
      help('lakestream_table_version', 'gauge', 'Latest Delta version of each table.');
      for (const t of p.tables) out.push(`lakestream_table_version{table="${esc(t.path)}"} ${t.version}`);
    }
    return `${out.join('\n')}\n`;
  }
}
