import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_PARAMETERS,
  type CheckParameters,
  type CheckResult,
  DriftMonitor,
} from '../../../../src/quality/detectors/index.ts';

// Drift against peers on hand-made hourly means: 4 sensors on one asset, each with a level and daily shape of
// its own (plus a little deterministic noise); the device (sensor 0) may drift, and so may a peer.

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
// A short baseline so the tests stay small: 48 h window ending 24 h back, at least 24 h of it.
const params: CheckParameters = {
  ...structuredClone(BUILT_IN_PARAMETERS),
  drift: { ...BUILT_IN_PARAMETERS.drift, baselineHours: 48, baselineLagHours: 24, minBaselineHours: 24 },
};
const noise = (h: number, i: number) => 0.2 * Math.sin(h * 2.3 + i) + 0.1 * Math.cos(h * 0.7 + 2 * i);
const levels = [50, 42, 61, 55];
const amplitudes = [3, 1, 5, 2];
const healthy = (h: number, i: number) =>
  levels[i]! + amplitudes[i]! * Math.sin((2 * Math.PI * (h - 3 * i)) / 24) + noise(h, i);

type Offset = (h: number, sensor: number) => number;
const none: Offset = () => 0;
const deviceOnly =
  (f: (h: number) => number): Offset =>
  (h, i) =>
    i === 0 ? f(h) : 0;

/** Runs the four sensors' monitors like the drift job does (all anomalies first); returns the device's results. */
function run(monitors: DriftMonitor[], from: number, to: number, offset: Offset = none): CheckResult[][] {
  const out: CheckResult[][] = [];
  for (let h = from; h < to; h++) {
    const values = monitors.map((_, i) => healthy(h, i) + offset(h, i));
    const anomalies = monitors.map((m, i) => m.anomaly(T0 + h * H, values[i]!));
    monitors.forEach((m, i) => {
      const results = m.observeHour(
        T0 + h * H,
        values[i]!,
        anomalies.filter((_, j) => j !== i),
      );
      if (i === 0) out.push(results);
    });
  }
  return out;
}
const line = (p = params) => [0, 1, 2, 3].map(() => new DriftMonitor(p));
const flagOf = (rs: CheckResult[], check: string) => rs.find((r) => r.check === check)?.flag;

describe('DriftMonitor', () => {
  it('does not evaluate a device with no peers (or fewer than min_peers with a baseline)', () => {
    const m = new DriftMonitor(params);
    const alone = m.observeHour(T0, 50, []);
    expect(alone.map((r) => [r.check, r.flag])).toEqual([
      ['drift_cusum', 2],
      ['drift_ewma', 2],
    ]);
    expect(alone[0]!.details.reason).toBe(
      '0 peer sensor(s) with a baseline this hour; drift needs at least 3',
    );
    expect(m.observeHour(T0 + H, 50, [0.1, Number.NaN, null, 0.2])[0]!.details).toMatchObject({ peers: 2 });
  });

  it('waits for the baselines, then passes a device that tracks its peers despite its own level and shape', () => {
    const out = run(line(), 0, 24 * 6);
    // The baseline window ends 24 h back and needs 24 h: no anomaly (so no peer) before hour 48.
    expect(out[47]![0]!.details.reason).toMatch(/0 peer sensor\(s\) with a baseline/);
    expect(flagOf(out[48]!, 'drift_cusum')).toBe(1);
    expect(out.slice(48).every((rs) => rs.every((r) => r.flag === 1))).toBe(true);
  });

  it('says how much baseline a device joining a line late still needs', () => {
    const peers = line().slice(1);
    const device = new DriftMonitor(params);
    run([new DriftMonitor(params), ...peers], 0, 72); // the peers have their baselines; the device is new
    const [first] = run([device, ...peers], 72, 73);
    expect(first![0]!.details.reason).toBe('baseline has 0 of the 24 hours it needs');
  });

  it('flags a slow drift with CUSUM and EWMA', () => {
    const monitors = line();
    run(monitors, 0, 96);
    // 0.05 units an hour away from its usual level: after a day, a few noise sigmas.
    const out = run(
      monitors,
      96,
      96 + 48,
      deviceOnly((h) => 0.05 * (h - 96)),
    );
    const firstCusum = out.findIndex((rs) => flagOf(rs, 'drift_cusum') === 3);
    const firstEwma = out.findIndex((rs) => flagOf(rs, 'drift_ewma') === 3);
    expect(firstCusum).toBeGreaterThan(0);
    expect(firstCusum).toBeLessThan(36);
    expect(firstEwma).toBeGreaterThan(0);
    const alarm = out[firstCusum]!.find((r) => r.check === 'drift_cusum')!;
    expect(alarm).toMatchObject({ severity: 'warn', threshold: 8, details: { direction: 'up', peers: 3 } });
    expect(alarm.observed!).toBeGreaterThan(8);
  });

  it('is not moved by a drifting peer, nor by a change the whole line makes', () => {
    // With three peers and one drifting, the median is the larger of the other two: biased by about half a
    // noise sigma, which the fleet's CUSUM allowance (k 1, connectors/quality-rules.yaml) absorbs.
    const fleet = { ...params, drift: { ...params.drift, cusumK: 1, cusumH: 10, ewmaL: 5 } };
    const monitors = line(fleet);
    run(monitors, 0, 96);
    const peerDrifts = run(monitors, 96, 144, (h, i) => (i === 2 ? 0.2 * (h - 96) : 0));
    expect(peerDrifts.every((rs) => rs.every((r) => r.flag === 1))).toBe(true);
    const others = line(fleet);
    run(others, 0, 96);
    const lineSteps = run(others, 96, 144, () => 4);
    expect(lineSteps.every((rs) => rs.every((r) => r.flag === 1))).toBe(true);
  });

  it('restarts CUSUM and EWMA after a calibration', () => {
    const monitors = line();
    run(monitors, 0, 96);
    const drifting = run(
      monitors,
      96,
      130,
      deviceOnly(() => 2),
    );
    expect(flagOf(drifting.at(-1)!, 'drift_cusum')).toBe(3);
    monitors[0]!.calibrated();
    const after = run(monitors, 130, 131);
    expect(after[0]!.map((r) => r.flag)).toEqual([1, 1]);
  });

  it('is switched off by the rules (flag 2)', () => {
    const off = { ...params, drift: { ...params.drift, enabled: false } };
    const [result] = run(line(off), 0, 1);
    expect(result!.map((r) => r.flag)).toEqual([2, 2]);
    expect(result![0]!.details.reason).toBe('switched off for this series in the rules file');
  });

  it('ignores an hour it has already seen', () => {
    const m = new DriftMonitor(params);
    m.observeHour(T0 + H, 50, [0, 0, 0]);
    expect(m.observeHour(T0 + H, 60, [0, 0, 0])).toEqual([]);
    expect(m.observeHour(T0, 60, [0, 0, 0])).toEqual([]);
  });

  it('measures hour-to-hour correlated noise and is not thrown by a spike in the baseline', () => {
    // Seeded AR(1) noise (lag-1 correlation ρ), 9 days, a week of baseline ending a day back: the long-run
    // factor √((1 + ρ) / (1 − ρ)) is 2 for ρ 0.6 and 1 for white noise.
    const longBaseline = {
      ...params,
      drift: { ...params.drift, baselineHours: 7 * 24, baselineLagHours: 24, minBaselineHours: 7 * 24 },
    };
    const serialNoise = (rho: number, seed: number, spikeAt?: number) => {
      let state = seed;
      const uniform = () => {
        state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
        return (state + 1) / (2 ** 31 + 1);
      };
      let e = 0;
      return Array.from({ length: 9 * 24 }, (_, h) => {
        const gaussian = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
        e = rho * e + Math.sqrt(1 - rho * rho) * gaussian;
        return h === spikeAt ? e + 50 : e;
      });
    };
    const lastHour = (rho: number, spikeAt?: number) => {
      const noise = [0, 1, 2, 3].map((i) => serialNoise(rho, 7 + i, i === 0 ? spikeAt : undefined));
      const out = run(line(longBaseline), 0, 9 * 24, (h, i) => noise[i]![h]! - (healthy(h, i) - levels[i]!));
      return out.at(-1)!.find((r) => r.check === 'drift_cusum')!.details;
    };
    const correlated = lastHour(0.6);
    expect(correlated.serialFactor as number).toBeGreaterThan(1.6);
    expect(correlated.serialFactor as number).toBeLessThan(2.5);
    expect(lastHour(0).serialFactor as number).toBeLessThan(1.3);
    // A 50-sigma spike in the baseline moves the noise estimate by a few percent, not by a factor.
    const spiked = lastHour(0.6, 3 * 24 + 5);
    expect((spiked.baselineSigma as number) / (correlated.baselineSigma as number)).toBeLessThan(1.1);
    expect(Math.abs((spiked.serialFactor as number) - (correlated.serialFactor as number))).toBeLessThan(0.2);
  });

  it('continues after a state round trip exactly as without the restart', () => {
    const offset = deviceOnly((h) => (h > 100 ? 0.03 * (h - 100) : 0));
    const expected = run(line(), 0, 160, offset);
    const half = line();
    const got = run(half, 0, 110, offset);
    const resumed = half.map((m) => new DriftMonitor(params, JSON.parse(JSON.stringify(m.state()))));
    got.push(...run(resumed, 110, 160, offset));
    expect(got).toEqual(expected);
    // Bounded: the value ring holds at most baseline + lag hours.
    expect((resumed[0]!.state() as { values: { items: number[] } }).values.items).toHaveLength(72);
  });
});
