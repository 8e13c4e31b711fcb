// Benchmark: time to train the consumption model on the 500 London households (target: under 30 s).

import { trainFromDailyFile } from '../models/consumption/index.ts';

export const LONDON_DAILY = new URL(
  '../../../shared/data/meters/london/daily_500_households.csv.gz',
  import.meta.url,
).pathname;

export async function runTrainBench(
  path = LONDON_DAILY,
): Promise<{ seconds: number; meterMonths: number; readAndTrainSeconds: number }> {
  const started = Date.now();
  const { metrics } = await trainFromDailyFile(path);
  const m = metrics as { trainSeconds: number; meterMonths: number };
  return {
    seconds: m.trainSeconds,
    meterMonths: m.meterMonths,
    readAndTrainSeconds: (Date.now() - started) / 1000,
  };
}

if (import.meta.main) console.log(JSON.stringify(await runTrainBench()));
