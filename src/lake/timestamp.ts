// A timestamp read from the lake: a Date (floored to the millisecond) that keeps the microseconds
// DuckDB returned, and prints them in JSON — so `timestamp_ntz` 12:00:00.491253 is not 12:00:00.491.

export class LakeTimestamp extends Date {
  /** microseconds since the epoch */
  readonly micros: bigint;
  /** false for a zoneless `timestamp_ntz` (DuckDB TIMESTAMP): its JSON has no 'Z' */
  readonly utc: boolean;

  constructor(micros: bigint, utc: boolean) {
    const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n); // floor, also before 1970
    super(Number(ms));
    this.micros = micros;
    this.utc = utc;
  }

  /** ISO 8601 with six fractional digits when the value has sub-millisecond ones, else three. */
  override toJSON(): string {
    const iso = this.toISOString();
    const sub = Number(((this.micros % 1000n) + 1000n) % 1000n);
    const head = iso.slice(0, -1); // without 'Z'
    const text = sub === 0 ? head : `${head}${String(sub).padStart(3, '0')}`;
    return this.utc ? `${text}Z` : text;
  }
}
