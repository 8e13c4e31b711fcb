// The cluster-trace workload for the stream worker (batch layer + speed layer): its topic, tables,
// per-partition processor, and the task GMM it classifies with (the latest registered version,
// picked up between batches). Before any task-gmm is registered, SUBMITs get class -1 and a null
// probability (no bootstrap model: train with `lakestream train --model task-gmm` on the lake or files).

import { TRACE_LAKE_TABLES } from '../../domain/cluster-trace/tables.ts';
import { TOPICS } from '../../domain/topics.ts';
import type { Lake } from '../../lake/index.ts';
import { latestModelVersion, loadModelJson } from '../../models/registry.ts';
import {
  TASK_GMM_MODEL_NAME,
  type TaskClassifier,
  type TaskGmmModel,
  taskClassifier,
  UNCLASSIFIED,
} from '../../models/task-gmm/model.ts';
import type { PartitionProcessor, Workload } from '../../stream/workload.ts';
import { DEFAULT_TRACE_CONFIG, type TraceConfig, TraceProcessor } from './processor.ts';
import { applyTraceDelta, traceStateFromJSON, traceStateToJSON } from './state.ts';

export async function clusterTraceWorkload(opts: {
  lake: Lake;
  config?: Partial<TraceConfig>;
}): Promise<Workload> {
  const config = { ...DEFAULT_TRACE_CONFIG, ...opts.config };
  const store = opts.lake.store;
  let classifier: TaskClassifier = UNCLASSIFIED;
  const processors = new Map<number, TraceProcessor>();
  const load = async () => {
    const v = await latestModelVersion(store, TASK_GMM_MODEL_NAME);
    if (v === undefined || v === classifier.version) return;
    const loaded = await loadModelJson(store, TASK_GMM_MODEL_NAME, v);
    if (!loaded) return;
    classifier = taskClassifier(loaded.model as TaskGmmModel, loaded.version);
    for (const p of processors.values()) p.setClassifier(classifier);
  };
  // the first batch already uses the latest model
  await load();
  return {
    name: 'cluster-trace',
    topic: TOPICS.traceEvents,
    tables: Object.values(TRACE_LAKE_TABLES).map((t) => ({
      path: t.path,
      spec: { schema: [...t.schema], partitionColumns: [...t.partitionColumns], description: t.description },
      keyColumns: 'keyColumns' in t ? [...(t.keyColumns as readonly string[])] : undefined,
    })),
    newProcessor(partition: number, saved?: unknown): PartitionProcessor {
      const p = new TraceProcessor(config, classifier, saved ? traceStateFromJSON(saved) : undefined);
      p.partitionOf = partition;
      processors.set(partition, p);
      return {
        process: (msg, out) => p.process(msg, out),
        flush: (out) => p.flush(out),
        toJSON: () => traceStateToJSON(p.state),
        deltaText: () => p.changes.deltaText(p.state),
        saved: () => p.changes.saved(),
        applyDelta: (d) => applyTraceDelta(p.state, d),
        counters: () => p.state.counters,
      };
    },
    refresh: load,
    modelVersion: () => classifier.version,
  };
}
