// The model's life in the lake: load the registered version (or the blend baseline), reload when LATEST
// moves, and learn from each closed month as a new version — what the stream worker calls.

import type { ObjectStore } from '../../storage/index.ts';
import { latestModelVersion, loadModelJson, registerModel } from '../registry.ts';
import { baselineModel } from './baselines.ts';
import {
  type ConsumptionModelJson,
  loadConsumptionModel,
  trainConsumptionModel,
  updateConsumptionModel,
} from './model.ts';
import type { ConsumptionModel, MeterMonthState } from './state.ts';

export const CONSUMPTION_MODEL_NAME = 'consumption';

/** The registered model (LATEST), or the blend baseline (version 0) when none is registered yet. */
export async function loadLatestConsumptionModel(store: ObjectStore): Promise<ConsumptionModel> {
  const found = await loadModelJson(store, CONSUMPTION_MODEL_NAME);
  return found ? loadConsumptionModel(found.model, found.version) : baselineModel();
}

/**
 * Keeps the latest model at hand: `current()` is synchronous for the hot path; `refresh()` (called by
 * the worker, say once per batch or every few seconds) reloads only when LATEST names a new version.
 */
export class ConsumptionModelReloader {
  private model: ConsumptionModel = baselineModel();
  private readonly store: ObjectStore;

  constructor(store: ObjectStore) {
    this.store = store;
  }

  current(): ConsumptionModel {
    return this.model;
  }

  /** Returns true when a new version was loaded. */
  async refresh(): Promise<boolean> {
    const v = await latestModelVersion(this.store, CONSUMPTION_MODEL_NAME);
    if (v === undefined || v === this.model.version) return false;
    const found = await loadModelJson(this.store, CONSUMPTION_MODEL_NAME, v);
    if (!found) return false;
    this.model = loadConsumptionModel(found.model, found.version);
    return true;
  }
}

/**
 * The adaptive step at month close: the latest model updated with the month's closed meter-months
 * (each state holding every day of its month), registered as the next version. Returns that version,
 * or undefined when no month was complete enough to learn from.
 */
export async function learnClosedMonths(
  store: ObjectStore,
  closedMonths: readonly MeterMonthState[],
): Promise<number | undefined> {
  const complete = closedMonths.filter(
    (m) => m.daily.length === m.daysInMonth && m.daily.every((v) => v !== null),
  );
  if (complete.length === 0) return undefined;
  const found = await loadModelJson(store, CONSUMPTION_MODEL_NAME);
  const json: ConsumptionModelJson = found
    ? updateConsumptionModel(found.model as ConsumptionModelJson, complete)
    : trainConsumptionModel(complete);
  const months = [...new Set(complete.map((m) => m.month))].sort();
  return registerModel(store, CONSUMPTION_MODEL_NAME, json, {
    updatedFrom: found?.version ?? null,
    learnedMonths: months,
    meterMonths: complete.length,
    trainedOn: json.trainedOn,
    createdAt: new Date().toISOString(),
  });
}
