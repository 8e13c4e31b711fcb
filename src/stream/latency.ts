// A sliding window of latency samples and its percentiles.

export class LatencyWindow {
  private readonly size: number;
  private readonly samples: number[] = [];
  private next = 0;

  constructor(size: number) {
    this.size = size;
  }

  add(ms: number): void {
    if (this.samples.length < this.size) this.samples.push(ms);
    else {
      this.samples[this.next] = ms;
      this.next = (this.next + 1) % this.size;
    }
  }

  percentiles(): { p50: number | null; p95: number | null; p99: number | null } {
    if (this.samples.length === 0) return { p50: null, p95: null, p99: null };
    const s = [...this.samples].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
}
