import { describe, expect, it } from 'vitest';
import {
  bestThreshold,
  NAB_PROFILES,
  type NabProfile,
  normalisedScore,
  parseNabTimestamp,
  probationaryLength,
  scaledSigmoid,
  scoreAtThreshold,
  sweepRows,
} from '../../../../bench/lib/nab-scoring.ts';

// NAB's scoring on tiny hand-made files: 100 rows a minute apart (15 probationary), one window rows 40–49.

const MIN = 60_000;
const ts = Array.from({ length: 100 }, (_, i) => i * MIN);
const window: [number, number] = [40 * MIN, 49 * MIN];
const standard = NAB_PROFILES.standard;

/** The raw standard score of a file with detections (anomaly score 1) at `rows`. */
function scoreOf(rows: number[], profile: NabProfile = standard, windows = [window]): number {
  const scores = ts.map((_, i) => (rows.includes(i) ? 1 : 0));
  return scoreAtThreshold(sweepRows(ts, scores, windows, 'f', profile), profile, 1).score;
}

describe('NAB scoring', () => {
  it('uses the scaled sigmoid: ~0.98661 at the left edge, 0 at the right, −1 from 3 on', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('has a probationary period of 15% of the rows, at most 750', () => {
    expect(probationaryLength(100)).toBe(15);
    expect(probationaryLength(22_695)).toBe(750);
  });

  it('scores a detection at the window start +1, later in the window less, and only the earliest', () => {
    expect(scoreOf([40])).toBeCloseTo(1, 10);
    expect(scoreOf([49])).toBeCloseTo((2 / (1 + Math.exp(-0.5)) - 1) / scaledSigmoid(-1), 10);
    expect(scoreOf([45, 40, 49])).toBeCloseTo(1, 10);
  });

  it('charges a missed window −1 and a false positive before any window 0.11 (standard)', () => {
    expect(scoreOf([])).toBe(-1);
    expect(scoreOf([20])).toBeCloseTo(-1.11, 10);
    expect(scoreOf([20], NAB_PROFILES.reward_low_FP_rate)).toBeCloseTo(-1.22, 10);
    expect(scoreOf([], NAB_PROFILES.reward_low_FN_rate)).toBe(-2);
  });

  it('charges a false positive just after a window less, and the full 0.11 from 3 window widths on', () => {
    // Row 50 is 1 row past the window's right edge (width 10): position 1/9.
    expect(scoreOf([40, 50])).toBeCloseTo(1 + 0.11 * scaledSigmoid(1 / 9), 10);
    expect(scoreOf([40, 76])).toBeCloseTo(1 - 0.11, 10);
  });

  it('ignores detections in the probationary period', () => {
    expect(scoreOf([3, 40])).toBeCloseTo(1, 10);
  });

  it('chooses the threshold with the best raw score over all files', () => {
    const scores = ts.map((_, i) => (i === 40 ? 0.9 : i === 20 ? 0.95 : i === 70 ? 0.5 : 0));
    const rows = sweepRows(ts, scores, [window], 'f', standard);
    const best = bestThreshold(rows, standard);
    expect(best).toMatchObject({ threshold: 0.9, windowsHit: 1, windows: 1, fpRows: 1 });
    expect(best.score).toBeCloseTo(0.89, 10);
  });

  it('normalises: null detector 0, perfect 100', () => {
    expect(normalisedScore(-19, 19, standard)).toBe(0);
    expect(normalisedScore(19, 19, standard)).toBe(100);
    expect(normalisedScore(0, 19, standard)).toBe(50);
  });

  it('reads NAB timestamps as UTC, with or without fractional seconds', () => {
    expect(parseNabTimestamp('2014-07-01 00:30:00')).toBe(Date.UTC(2014, 6, 1, 0, 30));
    expect(parseNabTimestamp('2014-07-01 00:30:00.000000')).toBe(Date.UTC(2014, 6, 1, 0, 30));
    expect(() => parseNabTimestamp('yesterday')).toThrow('not a NAB timestamp: "yesterday"');
  });
});
