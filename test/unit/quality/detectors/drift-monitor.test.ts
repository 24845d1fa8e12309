import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_PARAMETERS,
  type CheckParameters,
  type CheckResult,
  DriftMonitor,
} from '../../../../src/quality/detectors/index.ts';

// Drift against peers on hand-made hourly means: 4 sensors on one asset, the device reading like its peers
// (plus a little deterministic noise) until it starts to drift.

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
// A short baseline so the tests stay small: 48 h window ending 24 h back, at least 24 h of it.
const params: CheckParameters = {
  ...structuredClone(BUILT_IN_PARAMETERS),
  drift: { ...BUILT_IN_PARAMETERS.drift, baselineHours: 48, baselineLagHours: 24, minBaselineHours: 24 },
};
const noise = (h: number) => 0.2 * Math.sin(h * 2.3) + 0.1 * Math.cos(h * 0.7);
const peersAt = (h: number) => [50 + noise(h + 1), 50 + noise(h + 2), 50 + noise(h + 3)];

function run(m: DriftMonitor, from: number, to: number, offset: (h: number) => number): CheckResult[][] {
  const out: CheckResult[][] = [];
  for (let h = from; h < to; h++) out.push(m.observeHour(T0 + h * H, 50 + noise(h) + offset(h), peersAt(h)));
  return out;
}
const flagOf = (rs: CheckResult[], check: string) => rs.find((r) => r.check === check)?.flag;

describe('DriftMonitor', () => {
  it('does not evaluate a device with no peers (or fewer than min_peers)', () => {
    const m = new DriftMonitor(params);
    const none = m.observeHour(T0, 50, []);
    expect(none.map((r) => [r.check, r.flag])).toEqual([
      ['drift_cusum', 2],
      ['drift_ewma', 2],
    ]);
    expect(none[0]!.details.reason).toBe('0 peer sensor(s) this hour; drift needs at least 3');
    expect(m.observeHour(T0 + H, 50, [50, Number.NaN, 51])[0]!.details).toMatchObject({ peers: 2 });
  });

  it('waits for its baseline, then passes a device that tracks its peers', () => {
    const m = new DriftMonitor(params);
    const out = run(m, 0, 24 * 6, () => 0);
    // The baseline window ends 24 h back and needs 24 h: nothing before hour 48.
    expect(out[47]![0]!.details.reason).toMatch(/baseline has 23 of the 24 hours/);
    expect(flagOf(out[48]!, 'drift_cusum')).toBe(1);
    expect(out.slice(48).every((rs) => rs.every((r) => r.flag === 1))).toBe(true);
  });

  it('flags a slow drift with CUSUM and EWMA, standardised by the residual baseline', () => {
    const m = new DriftMonitor(params);
    run(m, 0, 96, () => 0);
    // 0.02 units an hour away from the peers: after 24 h, ~0.5 units (a few baseline sigmas).
    const out = run(m, 96, 96 + 48, (h) => 0.02 * (h - 96));
    const firstCusum = out.findIndex((rs) => flagOf(rs, 'drift_cusum') === 3);
    const firstEwma = out.findIndex((rs) => flagOf(rs, 'drift_ewma') === 3);
    expect(firstCusum).toBeGreaterThan(0);
    expect(firstCusum).toBeLessThan(36);
    expect(firstEwma).toBeGreaterThan(0);
    const alarm = out[firstCusum]!.find((r) => r.check === 'drift_cusum')!;
    expect(alarm).toMatchObject({ severity: 'warn', threshold: 8, details: { direction: 'up', peers: 3 } });
    expect(alarm.observed!).toBeGreaterThan(8);
  });

  it('restarts CUSUM and EWMA after a calibration', () => {
    const m = new DriftMonitor(params);
    run(m, 0, 96, () => 0);
    const drifting = run(m, 96, 130, () => 1);
    expect(flagOf(drifting.at(-1)!, 'drift_cusum')).toBe(3);
    m.calibrated();
    const after = run(m, 130, 131, () => 0);
    expect(after[0]!.map((r) => r.flag)).toEqual([1, 1]);
    expect(after[0]![0]!.observed).toBe(0);
  });

  it('ignores an hour it has already seen', () => {
    const m = new DriftMonitor(params);
    m.observeHour(T0 + H, 50, peersAt(1));
    expect(m.observeHour(T0 + H, 60, peersAt(1))).toEqual([]);
    expect(m.observeHour(T0, 60, peersAt(0))).toEqual([]);
  });

  it('continues after a state round trip exactly as without the restart', () => {
    const offset = (h: number) => (h > 100 ? 0.03 * (h - 100) : 0);
    const straight = new DriftMonitor(params);
    const expected = run(straight, 0, 160, offset);
    const half = new DriftMonitor(params);
    const got = run(half, 0, 110, offset);
    const resumed = new DriftMonitor(params, JSON.parse(JSON.stringify(half.state())));
    got.push(...run(resumed, 110, 160, offset));
    expect(got).toEqual(expected);
    // Bounded: the residual ring holds at most baseline + lag hours.
    expect((resumed.state() as { residuals: { items: number[] } }).residuals.items).toHaveLength(72);
  });
});
