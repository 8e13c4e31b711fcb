// Seeded pseudo-random numbers: splitmix32 to derive seeds, sfc32 streams (4×32-bit state each),
// kept in one Uint32Array so a million meters' generators cost 16 MB and no objects.

/** splitmix32: a well-mixed 32-bit hash of a 32-bit input (used to seed each meter's stream). */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The state of `count` sfc32 streams, stream i seeded from (seed, first + i) only. */
export function seedStreams(seed: number, first: number, count: number): Uint32Array {
  const s = new Uint32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const base = splitmix32(splitmix32(seed >>> 0) ^ splitmix32(first + i));
    s[i * 4] = splitmix32(base);
    s[i * 4 + 1] = splitmix32(base + 1);
    s[i * 4 + 2] = splitmix32(base + 2);
    s[i * 4 + 3] = 1;
    for (let k = 0; k < 12; k++) next(s, i); // warm up, as sfc32 recommends
  }
  return s;
}

/** Next uniform in [0, 1) from stream i (sfc32). */
export function next(s: Uint32Array, i: number): number {
  const o = i * 4;
  const a = s[o];
  const b = s[o + 1];
  const c = s[o + 2];
  const d = s[o + 3];
  const t = (((a + b) | 0) + d) | 0;
  s[o + 3] = (d + 1) | 0;
  s[o] = b ^ (b >>> 9);
  s[o + 1] = (c + (c << 3)) | 0;
  const c2 = (c << 21) | (c >>> 11);
  s[o + 2] = (c2 + t) | 0;
  return (t >>> 0) / 4294967296;
}

/** A standard normal deviate from stream i (Box-Muller). */
export function normal(s: Uint32Array, i: number): number {
  const u = 1 - next(s, i); // (0, 1]
  const v = next(s, i);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
