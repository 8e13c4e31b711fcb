// The meters workload for the stream worker: its topic, tables, per-partition processor, and the
// forecast model it predicts with (picked up from the registry when a new version appears).

import { decodeReading } from '../../domain/meters/reading.ts';
import { FLEET_ID, FLEET_PARTIALS, METER_TABLES } from '../../domain/meters/tables.ts';
import { TOPICS } from '../../domain/topics.ts';
import { baselineModel } from '../../models/consumption/baselines.ts';
import { loadConsumptionModel } from '../../models/consumption/model.ts';
import { MonthlyRetrainer } from '../../models/consumption/retrain.ts';
import { latestModelVersion, loadModelJson } from '../../models/registry.ts';
import type { ObjectStore } from '../../storage/index.ts';
import type { PartitionProcessor, Workload } from '../../stream/workload.ts';
import type { Enrichment } from './enrich.ts';
import { afterBatch } from './fleet.ts';
import { seedFleetPartials } from './fleet-seed.ts';
import { DEFAULT_METERS_CONFIG, type Forecaster, type MetersConfig, MetersProcessor } from './processor.ts';
import {
  applyPartitionDelta,
  partitionStateFromJSON,
  partitionStateToJSON,
  partitionStateToJSONBytes,
  partitionStateToJSONText,
} from './state.ts';

export interface MetersWorkloadOptions {
  store: ObjectStore;
  enrichment: Enrichment;
  config?: Partial<MetersConfig>;
  /**
   * Retrains the forecast on the lake after each month closes (in the background; the new version
   * is picked up like any other). Only the worker owning partition 0 does it, so a group retrains once;
   * the registry records the month retrained, so a restart does not retrain it again (retrain.ts).
   */
  retrain?: () => Promise<number>;
}

const KEYS: Record<string, string[]> = {
  [METER_TABLES.silver.path]: ['meter_id', 'day'],
  [METER_TABLES.daily.path]: ['meter_id', 'day'],
  [METER_TABLES.monthly.path]: ['meter_id', 'month'],
  [METER_TABLES.outcomes.path]: ['meter_id', 'month'],
};

export function metersWorkload(opts: MetersWorkloadOptions): Workload {
  const config = { ...DEFAULT_METERS_CONFIG, ...opts.config };
  let forecaster: Forecaster = baselineModel();
  const processors = new Map<number, MetersProcessor>();
  const retrainer = opts.retrain && new MonthlyRetrainer(opts.store, opts.retrain);
  return {
    name: 'meters',
    topic: TOPICS.readings,
    tables: [...Object.values(METER_TABLES), FLEET_PARTIALS].map((t) => ({
      path: t.path,
      spec: { schema: [...t.schema], partitionColumns: [...t.partitionColumns], description: t.description },
      keyColumns: KEYS[t.path],
      // a lake written before the partials: they start from its meter rows (fleet-seed.ts)
      ...(t.path === FLEET_PARTIALS.path ? { initialRows: seedFleetPartials } : {}),
    })),
    newProcessor(partition: number, saved?: unknown): PartitionProcessor {
      const p = new MetersProcessor(
        { config, enrichment: opts.enrichment, forecaster, decode: (b) => decodeReading(b), now: Date.now },
        saved ? partitionStateFromJSON(saved) : undefined,
      );
      processors.set(partition, p);
      return {
        process: (msg, out) => p.process(msg, out),
        flush: (out) => p.flush(out),
        toJSON: () => partitionStateToJSON(p.state),
        toJSONText: () => partitionStateToJSONText(p.state),
        toJSONBytes: () => partitionStateToJSONBytes(p.state),
        deltaText: () => p.changes.deltaText(p.state),
        saved: () => p.changes.saved(),
        applyDelta: (d) => applyPartitionDelta(p.state, d),
        counters: () => p.state.counters,
      };
    },
    async refresh() {
      // only a retrainer needs the latest closed month (a scan of partition 0's meters)
      const closed = retrainer ? processors.get(0)?.latestClosedMonth() : undefined;
      if (retrainer && closed) await retrainer.afterMonthClosed(closed);
      const v = await latestModelVersion(opts.store, 'consumption');
      if (v === undefined || v === forecaster.version) return;
      const loaded = await loadModelJson(opts.store, 'consumption', v);
      if (!loaded) return;
      forecaster = loadConsumptionModel(loaded.model, loaded.version);
      for (const p of processors.values()) p.setForecaster(forecaster);
    },
    modelVersion: () => forecaster.version,
    async afterCommit(lake, tables) {
      // The fleet totals of the months this batch predicted or closed, from their partials (fleet.ts),
      // then the partials of those months folded when they have grown to many files: one read of
      // the partials for both. The predictions topic gets the fleet rows that changed.
      const changed = await afterBatch(lake, tables);
      return (changed.get(METER_TABLES.predictions.path) ?? []).map((row) => ({
        topic: config.predictionsTopic,
        key: FLEET_ID,
        value: new TextEncoder().encode(JSON.stringify(row)),
      }));
    },
  };
}
