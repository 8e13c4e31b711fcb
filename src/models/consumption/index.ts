// The consumption forecast's public API: what the stream worker, train and evaluate call.

export { BASELINES, baselineModel, blend, runRate, sameMonthLastYear } from './baselines.ts';
export { addMonths, daysInMonth } from './calendar.ts';
export { type DailyFormat, readDailyFile } from './daily-file.ts';
export { type DailyDataset, type MeterSeries, stateAt } from './dataset.ts';
export { backtest, type EvalReport, type EvalRow, scoreModel } from './evaluate.ts';
export {
  CONSUMPTION_MODEL_NAME,
  ConsumptionModelReloader,
  learnClosedMonths,
  loadLatestConsumptionModel,
} from './lifecycle.ts';
export {
  type ConsumptionModelJson,
  loadConsumptionModel,
  trainConsumptionModel,
  updateConsumptionModel,
} from './model.ts';
export type { ConsumptionModel, MeterMonthState } from './state.ts';
export { datasetFromLake, type TrainResult, trainFromDailyFile, trainFromLake } from './train.ts';
