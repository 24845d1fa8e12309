import { describe, expect, it } from 'vitest';
import { newRing, pushRing, RollingScale, robustScale } from '../../../../src/quality/detectors/robust.ts';

// RollingScale must give exactly robustScale's numbers (the series monitor's results must not change with it).

/** A small deterministic generator (mulberry32) so the cases are reproducible. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** -0 and 0 tie in a sort, so either may be the median: the same number. */
const plain = (x: { centre: number; sigma: number }) => ({ centre: x.centre + 0, sigma: x.sigma + 0 });

describe('RollingScale', () => {
  it.each([
    ['continuous values, window 100', 100, (r: () => number) => r() * 10 - 5],
    [
      'quantized values with many ties (MAD 0 fallback), window 100',
      100,
      (r: () => number) => (r() < 0.8 ? 0 : Math.round(r() * 4 - 2)),
    ],
    ['odd window with heavy tails', 31, (r: () => number) => (r() < 0.1 ? 1e3 : 1) * (r() - 0.5)],
    ['window 1', 1, (r: () => number) => r()],
  ])('equals robustScale of the ring after every push: %s', (_name, capacity, draw) => {
    const next = random(7);
    const reference = newRing(capacity);
    const rolling = new RollingScale(newRing(capacity));
    for (let i = 0; i < 1_000; i++) {
      const v = draw(next);
      pushRing(reference, v);
      rolling.push(v);
      expect(plain(rolling.scale())).toEqual(plain(robustScale(reference.items)));
    }
  });

  it('continues from a ring restored from JSON', () => {
    const ring = newRing(50);
    for (let i = 0; i < 80; i++) pushRing(ring, Math.sin(i) * 3);
    const restored = new RollingScale(JSON.parse(JSON.stringify(ring)));
    const reference = structuredClone(ring);
    for (let i = 0; i < 40; i++) {
      restored.push(i % 7);
      pushRing(reference, i % 7);
    }
    expect(restored.scale()).toEqual(robustScale(reference.items));
  });
});
