// The live pipeline view: worker status files, consumer lag per partition, rates, latency, quarantine, model.

import { existsSync } from 'node:fs';
import { TOPICS } from '../../domain/topics.ts';
import { type RetrainRecord, readRetrain } from '../../models/registry.ts';
import { readWorkerStatuses, type WorkerStatus } from '../../stream/worker-status.ts';
import type { Transport } from '../../transport/index.ts';
import { openTransport } from '../../transport/index.ts';
import { type LakeReader, num } from '../lake-reader.ts';
import { QUARANTINE } from './catalog.ts';
import { dialectOf } from './dialect.ts';

export const DEFAULT_GROUP = 'lakestream-meters';
/** A worker whose status is older than this is shown as stale (it writes every ~2 s). */
export const STALE_MS = 15_000;

/** What each stream worker writes to its status file (src/stream/worker-status.ts). */
export type { WorkerStatus };

export interface PartitionLag {
  partition: number;
  end: number;
  committed: number | null;
  lag: number;
}

export interface PipelineSnapshot {
  at: string;
  topic: string;
  group: string;
  workers: (WorkerStatus & { stale: boolean })[];
  totals: { read: number; accepted: number; quarantined: number; duplicates: number };
  /** messages per second: into the topic (end offsets) and committed by the group */
  rates: { in: number | null; committed: number | null };
  lag: PartitionLag[] | null;
  lagError: string | null;
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
  quarantine: {
    reasons: Record<string, number>;
    latest: { reason: string; detail: string | null; meter_id: string | null; at: string }[];
  };
  model_version: number | null;
  /** the forecast's last monthly retrain (models/consumption/RETRAIN.json), null when none ran */
  retrain: RetrainRecord | null;
  tables: { path: string; version: number; lastCommitAt: string }[];
}

interface Sample {
  t: number;
  end: number;
  committed: number;
}

export class PipelineMonitor {
  private readonly lake: LakeReader;
  private readonly transportUrl: string | undefined;
  private readonly group: string;
  private readonly topic: string;
  private transport: Promise<Transport> | undefined;
  private samples: Sample[] = [];

  constructor(lake: LakeReader, opts: { transportUrl?: string; group?: string; topic?: string }) {
    this.lake = lake;
    this.transportUrl = opts.transportUrl;
    this.group = opts.group ?? DEFAULT_GROUP;
    this.topic = opts.topic ?? TOPICS.readings;
  }

  async snapshot(): Promise<PipelineSnapshot> {
    const [workers, lagResult, tables, quarantine, retrain] = await Promise.all([
      readWorkerStatuses(this.lake.store),
      this.lag(),
      this.lake.tables(),
      this.quarantineLatest(),
      readRetrain(this.lake.store, 'consumption').catch(() => undefined),
    ]);
    const now = Date.now();
    const mine = workers.filter((w) => w.group === this.group);
    const live = mine.map((w) => ({ ...w, stale: now - Date.parse(w.updated_at) > STALE_MS }));
    const totals = { read: 0, accepted: 0, quarantined: 0, duplicates: 0 };
    const reasons: Record<string, number> = {};
    let model: number | null = null;
    const lat = { p50: null as number | null, p95: null as number | null, p99: null as number | null };
    // A worker's counters are cumulative over the partitions it owns (restored from the lake when it takes
    // them over), so a partition counts once: newest status first, skipping workers whose partitions are counted.
    const counted = new Set<number>();
    for (const w of [...live].sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at))) {
      const parts = (w.assigned ?? []).map((a) => a.partition);
      if (parts.some((p) => counted.has(p))) continue;
      for (const p of parts) counted.add(p);
      totals.read += num(w.read) || 0;
      totals.accepted += num(w.accepted) || 0;
      totals.quarantined += num(w.quarantined) || 0;
      totals.duplicates += num(w.duplicates) || 0;
      for (const [r, n] of Object.entries(w.quarantine_reasons ?? {})) reasons[r] = (reasons[r] ?? 0) + n;
    }
    for (const w of live) {
      if (!w.stale && w.model_version !== null && (model === null || w.model_version > model))
        model = w.model_version;
      // Across workers, the worst percentile is the honest one to show.
      if (!w.stale)
        for (const k of ['p50', 'p95', 'p99'] as const) {
          const x = w.latency_ms?.[k];
          if (x !== null && x !== undefined && (lat[k] === null || x > lat[k]!)) lat[k] = x;
        }
    }
    if (model === null)
      for (const w of live)
        if (w.model_version !== null && (model === null || w.model_version > model)) model = w.model_version;
    let rates: PipelineSnapshot['rates'] = { in: null, committed: null };
    if (lagResult.lag) {
      const end = lagResult.lag.reduce((a, p) => a + p.end, 0);
      const committed = lagResult.lag.reduce((a, p) => a + (p.committed ?? 0), 0);
      this.samples.push({ t: now, end, committed });
      this.samples = this.samples.filter((s) => now - s.t <= 10_000);
      const first = this.samples[0];
      const dt = (now - first.t) / 1000;
      if (dt >= 0.5) rates = { in: (end - first.end) / dt, committed: (committed - first.committed) / dt };
    }
    return {
      at: new Date(now).toISOString(),
      topic: this.topic,
      group: this.group,
      workers: live,
      totals,
      rates,
      lag: lagResult.lag,
      lagError: lagResult.error,
      latency_ms: lat,
      quarantine: { reasons, latest: quarantine },
      model_version: model,
      retrain: retrain ?? null,
      tables: tables.map((t) => ({
        path: t.path,
        version: t.version,
        lastCommitAt: new Date(t.lastCommitAt).toISOString(),
      })),
    };
  }

  private async lag(): Promise<{ lag: PartitionLag[] | null; error: string | null }> {
    if (!this.transportUrl) return { lag: null, error: 'no transport configured (--transport)' };
    // Read only: never create an embedded log that no producer has made yet.
    if (this.transportUrl.startsWith('embedded:') && !existsSync(this.transportUrl.slice('embedded:'.length)))
      return { lag: null, error: `no embedded log at ${this.transportUrl.slice('embedded:'.length)} yet` };
    try {
      this.transport ??= openTransport(this.transportUrl);
      const t = await this.transport;
      const topics = await t.listTopics();
      if (!topics.some((x) => x.name === this.topic)) return { lag: [], error: null };
      const [ends, committed] = await Promise.all([
        t.endOffsets(this.topic),
        t.committedOffsets(this.group, this.topic),
      ]);
      const byPartition = new Map(committed.map((c) => [c.partition, c.offset]));
      const lag = ends
        .map((e) => {
          const c = byPartition.get(e.partition) ?? null;
          return {
            partition: e.partition,
            end: e.offset,
            committed: c,
            lag: Math.max(0, e.offset - (c ?? 0)),
          };
        })
        .sort((a, b) => a.partition - b.partition);
      return { lag, error: null };
    } catch (e) {
      this.transport = undefined;
      return { lag: null, error: `transport ${this.transportUrl}: ${(e as Error).message}` };
    }
  }

  private async quarantineLatest(): Promise<PipelineSnapshot['quarantine']['latest']> {
    const tables = await this.lake.tables();
    if (!tables.some((t) => t.view === QUARANTINE)) return [];
    const r = await this.lake.query(
      `SELECT reason, detail, meter_id, ${dialectOf(this.lake).text('quarantined_at', 'second')} AS at
       FROM ${QUARANTINE} ORDER BY quarantined_at DESC, "offset" DESC LIMIT 10`,
    );
    return r.rows.map((x) => ({
      reason: String(x.reason),
      detail: x.detail === null ? null : String(x.detail).slice(0, 300),
      meter_id: x.meter_id === null ? null : String(x.meter_id),
      at: String(x.at),
    }));
  }

  async close(): Promise<void> {
    const t = this.transport;
    this.transport = undefined;
    if (t) await (await t.catch(() => undefined))?.close();
  }
}
