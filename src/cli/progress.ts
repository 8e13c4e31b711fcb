// One-line progress on stderr (rewritten in place on a terminal, a line every few seconds otherwise).

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;
  private lastText = '';

  update(text: string, force = false): void {
    const now = Date.now();
    if (this.tty) {
      if (!force && now - this.last < 100) return;
      this.last = now;
      const cols = process.stderr.columns ?? 120;
      process.stderr.write(`\r${text.slice(0, cols - 1).padEnd(Math.min(cols - 1, this.lastText.length))}`);
      this.lastText = text;
    } else if (force || now - this.last >= 5000) {
      this.last = now;
      process.stderr.write(`${text}\n`);
    }
  }

  done(text?: string): void {
    if (text) this.update(text, true);
    if (this.tty) process.stderr.write('\n');
    this.lastText = '';
  }
}
