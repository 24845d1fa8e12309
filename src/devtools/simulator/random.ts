/**
 * A seeded pseudo-random stream (sfc32, seeded through splitmix32), so a simulation is a pure function of its
 * seed: Math.random is never used. `fork(label)` derives an independent stream, which keeps, for example, a
 * device's base signal identical whether or not faults are enabled.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Standard normal N(0, 1) (Box–Muller). */
  gaussian(): number;
  pick<T>(items: readonly T[]): T;
  /** An independent stream for `label`, the same for the same parent seed and label. */
  fork(label: string | number): Random;
}

/** Creates the stream for `seed`; a string seed is hashed (FNV-1a) first. */
export function createRandom(seed: number | string): Random {
  return streamFrom(typeof seed === 'number' ? seed >>> 0 : fnv1a(seed));
}

function streamFrom(seed32: number): Random {
  let sm = seed32 >>> 0;
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = (): number => {
    // sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 32-bit output.
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // discard the warm-up outputs
  let spare: number | null = null;
  const random: Random = {
    next,
    between: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => p > 0 && next() < p,
    gaussian: () => {
      if (spare !== null) {
        const value = spare;
        spare = null;
        return value;
      }
      const u = 1 - next(); // (0, 1], so log(u) is finite
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    fork: (label) => streamFrom(fnv1a(`${seed32}/${label}`)),
  };
  return random;
}

/** 32-bit FNV-1a of the UTF-16 code units; stable across runs and platforms. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
