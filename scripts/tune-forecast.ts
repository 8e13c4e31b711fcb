// Chooses the forecast's ridge pull (lambda) looking only at the training window of the
// months-after-training protocol: months from the cut-off on are dropped before anything is fitted.
// Each lambda of the grid is scored by both protocols inside the window — households never seen
// (half the window's households against the other half) and its last six months after the months
// before them — and the lowest mean MAPE over k = 3, 7, 14, 21 of the two wins.
// Usage: npx node scripts/tune-forecast.ts [DAILY_FILE] [--cutoff YYYY-MM]

import { addMonths } from '../src/models/consumption/calendar.ts';
import { completeMonths, type DailyDataset } from '../src/models/consumption/dataset.ts';
import {
  householdsNeverSeen,
  monthsAfterTraining,
  type ProtocolReport,
} from '../src/models/consumption/evaluate.ts';
import { readDailyFile } from '../src/models/consumption/index.ts';
import { attachLondonMetadata } from '../src/models/consumption/metadata.ts';
import { DEFAULT_LAMBDA } from '../src/models/consumption/model.ts';

const GRID = [10, 30, 100, 300, 1000, 3000, 10000, 100000];
const VALIDATION_MONTHS = 6;

const args = process.argv.slice(2);
const at = args.indexOf('--cutoff');
const file =
  args.find((a, i) => !a.startsWith('--') && i !== at + 1) ??
  '../shared/data/meters/london/daily_500_households.csv.gz';
const data = await readDailyFile(file);
await attachLondonMetadata(data, file);
// the same default cut-off as `model evaluate`: the last 12 months are the scored ones
const cutoff = at >= 0 ? args[at + 1] : addMonths(completeMonths(data).at(-1)!.month, -11);

/** The dataset without its months from the cut-off on: what tuning may look at. */
function before(d: DailyDataset, month: string): DailyDataset {
  const meters = new Map(
    [...d.meters].map(([id, s]) => [id, { ...s, months: new Map([...s.months].filter(([m]) => m < month)) }]),
  );
  return { ...d, meters };
}

const window = before(data, cutoff);
const validateFrom = addMonths(cutoff, -VALIDATION_MONTHS);
console.log(
  `training window: months before ${cutoff}; fitted on months before ${validateFrom}, scored on ${validateFrom} … ${addMonths(cutoff, -1)}`,
);
let best: { lambda: number; score: number } | undefined;
const meanMape = (r: ProtocolReport) => {
  const ks = r.results.filter((x) => x.k !== 'last');
  return ks.reduce((a, x) => a + x.model.mape, 0) / ks.length;
};
for (const lambda of GRID) {
  const later = monthsAfterTraining(window, { cutoff: validateFrom, lambda }) as ProtocolReport;
  const unseen = householdsNeverSeen(window, { lambda }) as ProtocolReport;
  const score = (meanMape(later) + meanMape(unseen)) / 2;
  console.log(
    `lambda ${String(lambda).padStart(6)}: households never seen ${meanMape(unseen).toFixed(3)}, last six months ${meanMape(later).toFixed(3)}, mean ${score.toFixed(3)}`,
  );
  if (!best || score < best.score) best = { lambda, score };
}
console.log(`best lambda ${best!.lambda} (shipped DEFAULT_LAMBDA = ${DEFAULT_LAMBDA})`);
