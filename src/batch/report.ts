// The batch view's run as text: the view published, then the differences with the stream per table.

import type { BatchResult } from './run.ts';

/** 57600 as 57,600 (the CLI's counts). */
const formatCount = (n: number) => n.toLocaleString('en-US');

/** The text report: the view published, then the differences per table (at most a few keys each). */
export function batchReport(r: BatchResult, shown = 10): string {
  const lines = [
    `batch view run ${r.view.run} on ${r.view.engine}: ${covered(r)}${r.view.from || r.view.to ? `, days ${r.view.from ?? '…'} to ${r.view.to ?? '…'}` : ''}`,
  ];
  for (const [path, version] of Object.entries(r.view.tables)) {
    const name = path.split('/').at(-1) as keyof typeof r.rows;
    lines.push(
      `  ${path.padEnd(r.workload === 'meters' ? 22 : 36)} ${formatCount(r.rows[name]).padStart(12)} rows  version ${version}`,
    );
  }
  lines.push("differences with the stream's tables:");
  for (const [name, rows] of Object.entries(r.diff)) {
    if (rows.length === 0) {
      lines.push(`  ${name}: none`);
      continue;
    }
    lines.push(`  ${name}: ${formatCount(rows.length)} key${rows.length === 1 ? '' : 's'}`);
    for (const d of rows.slice(0, shown)) {
      const what =
        d.change === 'changed'
          ? `${d.columns.join(', ')} (value ${d.stream_value} → ${d.batch_value})`
          : `${d.change} (value ${d.batch_value ?? d.stream_value})`;
      lines.push(`    ${d.meter_id ?? d.task} ${d.key}: ${what}`);
    }
    if (rows.length > shown)
      lines.push(`    … and ${formatCount(rows.length - shown)} more (--json lists all)`);
  }
  return lines.join('\n');
}

/** One line: the run, its mark and how many keys differ per table (the stream's periodic runs). */
export function batchSummary(r: BatchResult): string {
  const counts = Object.entries(r.diff).map(([name, rows]) => `${name} ${formatCount(rows.length)}`);
  return `batch view run ${r.view.run}: ${covered(r)}; keys differing from the stream: ${counts.join(', ')}`;
}

/** What the view's mark says: the meters' latest reading, the trace's latest task event. */
function covered(r: BatchResult): string {
  return r.workload === 'meters'
    ? `readings up to ${r.view.mark ?? '(none)'}`
    : `task events up to trace time ${r.view.mark === null ? '(none)' : `${formatCount(Number(r.view.mark))} µs`}`;
}
