// scripts/forecast-ideas.ts measures candidate features of the forecast: its baseline idea ('none') must
// score what `model evaluate` scores, and a column it adds must really reach the fit and the prediction.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { before, IDEAS, KS, protocols } from '../../scripts/forecast-ideas.ts';
import { addMonths } from '../../src/models/consumption/calendar.ts';
import { completeMonths, type DailyDataset } from '../../src/models/consumption/dataset.ts';
import {
  householdsNeverSeen,
  monthsAfterTraining,
  type ProtocolReport,
} from '../../src/models/consumption/evaluate.ts';
import { readDailyFile } from '../../src/models/consumption/index.ts';
import { attachLondonMetadata } from '../../src/models/consumption/metadata.ts';

const LONDON = '/work/shared/data/meters/london/daily_500_households.csv.gz';

/** 60 households of the shipped file, with its tariffs and holidays */
async function sample(): Promise<DailyDataset> {
  const data = await readDailyFile(LONDON);
  await attachLondonMetadata(data, LONDON);
  const keep = new Set([...data.meters.keys()].sort().slice(0, 60));
  for (const id of [...data.meters.keys()]) if (!keep.has(id)) data.meters.delete(id);
  return data;
}

const at = (r: ProtocolReport, k: number) => r.results.find((x) => x.k === k)!;

test("the idea 'none' scores what model evaluate scores, by both protocols", async () => {
  const data = await sample();
  const cutoff = addMonths(completeMonths(data).at(-1)!.month, -11);
  const mine = protocols(data, cutoff, IDEAS.none);
  const unseen = householdsNeverSeen(data) as ProtocolReport;
  const later = monthsAfterTraining(data, { cutoff }) as ProtocolReport;
  KS.forEach((k, i) => {
    for (const [name, s, r] of [
      ['never seen', mine.unseen, unseen],
      ['after the window', mine.later, later],
    ] as const) {
      const row = at(r, k);
      assert.ok(
        Math.abs(s.model[i] - row.model.mape) < 1e-9,
        `${name} k=${k}: ${s.model[i]} vs ${row.model.mape}`,
      );
      assert.ok(Math.abs(s.ratio[i] - row.ratio_to_best) < 1e-9, `${name} k=${k} ratio`);
    }
  });
});

test('an added column reaches the fit and the prediction: the true remaining rate drives the error near zero', async () => {
  const data = await sample();
  const cutoff = addMonths(completeMonths(data).at(-1)!.month, -11);
  const truth = () => (s: { meterId: string; month: string; daily: unknown[] }) => {
    const days = data.meters.get(s.meterId)!.months.get(s.month)!;
    const rest = days.slice(s.daily.length) as number[];
    return rest.reduce((a, b) => a + b, 0) / Math.max(1, rest.length);
  };
  // a weak ridge (λ = 0.01): at the shipped λ the other coefficients stay near their prior
  const none = protocols(data, cutoff, IDEAS.none, 0.01);
  const leak = protocols(data, cutoff, truth, 0.01);
  KS.forEach((k, i) => {
    assert.ok(
      leak.unseen.model[i] < none.unseen.model[i] / 10,
      `k=${k}: ${leak.unseen.model[i]} vs ${none.unseen.model[i]}`,
    );
    assert.ok(leak.later.model[i] < none.later.model[i] / 10, `k=${k}`);
  });
});

test("the added column's own λ reaches the fit: with the base columns at the shipped λ, a light penalty lets the true remaining rate speak", async () => {
  const data = await sample();
  const cutoff = addMonths(completeMonths(data).at(-1)!.month, -11);
  const truth = () => (s: { meterId: string; month: string; daily: unknown[] }) => {
    const days = data.meters.get(s.meterId)!.months.get(s.month)!;
    const rest = days.slice(s.daily.length) as number[];
    return rest.reduce((a, b) => a + b, 0) / Math.max(1, rest.length);
  };
  const held = protocols(data, cutoff, truth, { lambda: 100 });
  const light = protocols(data, cutoff, truth, { lambda: 100, newLambda: 0.01 });
  KS.forEach((k, i) => {
    assert.ok(
      light.unseen.model[i] < 0.95 * held.unseen.model[i],
      `k=${k}: ${light.unseen.model[i]} vs ${held.unseen.model[i]}`,
    );
    assert.ok(
      light.later.model[i] < 0.95 * held.later.model[i],
      `k=${k} later: ${light.later.model[i]} vs ${held.later.model[i]}`,
    );
  });
});

test('the tuning view holds no month from the cut-off on', async () => {
  const data = await sample();
  const w = before(data, '2013-02');
  for (const s of w.meters.values()) for (const m of s.months.keys()) assert.ok(m < '2013-02', m);
  assert.ok(completeMonths(w).length > 0);
});
