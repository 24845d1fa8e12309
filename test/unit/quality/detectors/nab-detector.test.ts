import { describe, expect, it } from 'vitest';
import { nabAnomalyScores } from '../../../../bench/quality-nab.ts';

// The NAB anomaly-score detector on a hand-made series: 5-minute readings, noise, and a level shift on day 4.

const STEP = 5 * 60_000;
const rows = 6 * 288; // 6 days
const shiftAt = 4 * 288;
const ts = Array.from({ length: rows }, (_, i) => Date.UTC(2026, 0, 5) + i * STEP);
const noise = (i: number) => Math.sin(i * 1.3) + 0.5 * Math.cos(i * 0.37);
const values = ts.map((_, i) => 50 + noise(i) + (i >= shiftAt ? 6 : 0));

describe('NAB anomaly-score detector', () => {
  const scores = nabAnomalyScores(ts, values);

  it('alarms (score ≥ 0.5) soon after a level shift and not before it', () => {
    const first = scores.findIndex((s) => s >= 0.5);
    expect(first).toBeGreaterThanOrEqual(shiftAt);
    expect(first - shiftAt).toBeLessThan(6);
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
  });

  it('stays quiet for a day after an alarm', () => {
    const first = scores.findIndex((s) => s >= 0.5);
    expect(scores.slice(first + 1, first + 288).every((s) => s === 0)).toBe(true);
  });

  it('uses only the rows up to each row (no look-ahead)', () => {
    const cut = shiftAt + 3;
    expect(nabAnomalyScores(ts.slice(0, cut), values.slice(0, cut))).toEqual(scores.slice(0, cut));
  });
});
