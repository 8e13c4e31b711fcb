// The line under a chart saying which tables its series came from: the batch view up to its mark and
// the stream after it, or the stream alone (the response's `source`, src/serve/data/batch-view.ts).

import type { ServedFrom } from '../data/batch-view.ts';

export function sourceNote(what: string, s: ServedFrom): string {
  if (s.tables === 'stream') return `${what}: from the stream (${s.stream_table}) — ${s.why}.`;
  const [covered, rest] = s.batch_days
    ? [`days ${s.batch_days.from ? `${s.batch_days.from} – ` : 'up to '}${s.batch_days.to}`, 'after them']
    : [
        `the attempts ended by trace time ${(s.batch_until ?? 0).toLocaleString('en-US')} µs`,
        'for the others',
      ];
  return `${what}: from batch view run ${s.batch_run} (${s.batch_table}) for ${covered}, from the stream (${s.stream_table}) ${rest}.`;
}
