import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_PARAMETERS,
  type CheckName,
  type CheckParameters,
  type Observation,
  SeriesMonitor,
  type SeriesReading,
  type SeriesSpec,
} from '../../../../src/quality/detectors/index.ts';

// The per-reading checks on hand-made series. Readings are one a minute from T0 unless a test says otherwise.

const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const MIN = 60_000;
const spec: SeriesSpec = {
  metric: 'temperature',
  rangeMin: -20,
  rangeMax: 80,
  resolution: 0.1,
  expectedIntervalS: 60,
};
const params: CheckParameters = structuredClone(BUILT_IN_PARAMETERS);

/** A deterministic wiggle (±0.5) so the robust sigmas have something to measure. */
const wiggle = (i: number) => 20 + 0.5 * Math.sin(i * 1.7) + 0.25 * Math.cos(i * 0.31);
const series = (n: number, f = wiggle, start = T0, stepMs = MIN): SeriesReading[] =>
  Array.from({ length: n }, (_, i) => ({ ts: start + i * stepMs, value: f(i) }));

function check(o: Observation | null, name: CheckName) {
  const r = o?.results.find((x) => x.check === name);
  if (!r) throw new Error(`no ${name} result`);
  return r;
}

function feed(m: SeriesMonitor, readings: SeriesReading[]): (Observation | null)[] {
  return readings.map((r) => m.observe(r));
}

describe('SeriesMonitor', () => {
  it('passes a well-behaved series with flag 1 once the sigmas are known', () => {
    const m = new SeriesMonitor(spec, params);
    const out = feed(m, series(60));
    expect(out.at(-1)!.flag).toBe(1);
    expect(out.at(-1)!.results.map((r) => [r.check, r.flag])).toEqual([
      ['gap', 1],
      ['gross_range', 1],
      ['spike', 1],
      ['rate_of_change', 1],
      ['flat_line', 1],
    ]);
    // The first reading cannot judge gap, spike or rate of change yet.
    expect(check(out[0]!, 'gap').flag).toBe(2);
    expect(check(out[0]!, 'spike').details.reason).toBe('needs the two previous readings without a gap');
  });

  it('ignores a reading at or before the last seen timestamp', () => {
    const m = new SeriesMonitor(spec, params);
    m.observe({ ts: T0 + MIN, value: 1 });
    expect(m.observe({ ts: T0 + MIN, value: 2 })).toBeNull();
    expect(m.observe({ ts: T0, value: 2 })).toBeNull();
  });

  it('flags gross range: fail outside the device spec, suspect outside the rules file span', () => {
    const p = { ...params, grossRange: { suspectMin: 0, suspectMax: 50 } };
    const m = new SeriesMonitor(spec, p);
    expect(check(m.observe({ ts: T0, value: 81 }), 'gross_range')).toMatchObject({ flag: 4, threshold: 80 });
    expect(check(m.observe({ ts: T0 + MIN, value: -21 }), 'gross_range')).toMatchObject({
      flag: 4,
      threshold: -20,
    });
    expect(check(m.observe({ ts: T0 + 2 * MIN, value: 60 }), 'gross_range')).toMatchObject({
      flag: 3,
      threshold: 50,
    });
    expect(check(m.observe({ ts: T0 + 3 * MIN, value: 20 }), 'gross_range').flag).toBe(1);
    const bare = new SeriesMonitor({ metric: 'x' }, params);
    expect(check(bare.observe({ ts: T0, value: 1e9 }), 'gross_range').flag).toBe(2);
  });

  it('flags a reading without a numeric value as missing (9)', () => {
    const m = new SeriesMonitor(spec, params);
    const o = m.observe({ ts: T0, value: Number.NaN });
    expect(o!.flag).toBe(9);
    expect(check(o, 'gross_range').details.reason).toBe('the reading has no numeric value');
  });

  it('flags a spike on the reading before, suspect at 4 and fail at 8 robust sigmas', () => {
    const m = new SeriesMonitor(spec, params);
    const base = series(60);
    feed(m, base);
    const sigma = (m.state() as { diffs: { items: number[] } }).diffs.items.length;
    expect(sigma).toBe(59);
    // A single outlier: judged when the next reading arrives.
    const at = T0 + 60 * MIN;
    expect(check(m.observe({ ts: at, value: 35 }), 'spike').flag).toBe(1);
    const verdict = check(m.observe({ ts: at + MIN, value: wiggle(61) }), 'spike');
    expect(verdict.flag).toBe(4);
    expect(verdict.details.readingTs).toBe(at);
    expect(verdict.observed!).toBeGreaterThan(verdict.threshold!);
    // A smaller outlier, between 4 and 8 sigmas, is suspect.
    const small = new SeriesMonitor(spec, params);
    feed(small, base);
    const s = check(small.observe({ ts: at, value: 20 }), 'spike').details.sigma as number;
    small.observe({ ts: at + MIN, value: 20 + 6 * s });
    expect(check(small.observe({ ts: at + 2 * MIN, value: 20 }), 'spike').flag).toBe(3);
  });

  it('flags a rate of change above 3 robust sigmas of recent rates as suspect', () => {
    const m = new SeriesMonitor(spec, params);
    feed(m, series(60));
    const roc = check(m.observe({ ts: T0 + 60 * MIN, value: wiggle(59) + 5 }), 'rate_of_change');
    expect(roc.flag).toBe(3);
    expect(roc.observed).toBeCloseTo(Math.abs(wiggle(59) + 5 - wiggle(59)) / 60, 6);
  });

  it('flags a flat line suspect after max(10 samples, 1 h) and fail after max(30 samples, 4 h)', () => {
    const m = new SeriesMonitor(spec, params);
    // Within the resolution (0.1): stuck.
    const out = feed(
      m,
      series(4 * 60 + 1, (i) => 20 + (i % 2) * 0.05),
    );
    expect(check(out[59]!, 'flat_line').flag).toBe(1); // 59 min
    expect(check(out[60]!, 'flat_line').flag).toBe(3); // 60 min, 61 samples
    expect(check(out[239]!, 'flat_line').flag).toBe(3);
    expect(check(out[240]!, 'flat_line')).toMatchObject({ flag: 4, observed: 4 * 3600 });
    // One value outside the tolerance ends the run.
    expect(check(m.observe({ ts: T0 + 241 * MIN, value: 25 }), 'flat_line').flag).toBe(1);
  });

  it('counts samples too: 2 readings an hour apart are not a flat line', () => {
    const m = new SeriesMonitor({ ...spec, expectedIntervalS: 3600 }, params);
    const out = feed(
      m,
      series(12, () => 5, T0, 3600_000),
    );
    expect(check(out[8]!, 'flat_line').flag).toBe(1); // 9 samples over 8 h
    expect(check(out[9]!, 'flat_line').flag).toBe(3); // 10 samples
  });

  it('does not evaluate a flat line while the asset is stopped or in maintenance', () => {
    const m = new SeriesMonitor(spec, params);
    const readings = series(300, () => 0);
    const out = readings.map((r) => m.observe(r, { assetIdle: true }));
    expect(check(out.at(-1)!, 'flat_line')).toMatchObject({
      flag: 2,
      details: { reason: 'the asset is stopped or in maintenance' },
    });
  });

  it('switches the flat line off when the rules say so', () => {
    const off = { ...params, flatLine: { ...params.flatLine, enabled: false } };
    const m = new SeriesMonitor(spec, off);
    const out = feed(
      m,
      series(300, () => 20),
    );
    expect(check(out.at(-1)!, 'flat_line')).toMatchObject({
      flag: 2,
      details: { reason: 'switched off for this series in the rules file' },
    });
  });

  it('keeps the noise from before a stuck stretch: the wiggles after it are not spikes', () => {
    const m = new SeriesMonitor(spec, params);
    const before = series(150);
    const stuck = series(120, () => 20.3, T0 + 150 * MIN);
    const after = series(100, (i) => wiggle(i + 7), T0 + 270 * MIN);
    const out = feed(m, [...before, ...stuck, ...after]);
    expect(check(out[150 + 119]!, 'flat_line').flag).toBe(3);
    const spikes = out.slice(270).filter((o) => check(o, 'spike').flag >= 3);
    expect(spikes).toEqual([]);
    // The sigma still measures the wiggle (differences of about ±0.5), not the zeros of the stuck stretch.
    expect(check(out.at(-1)!, 'spike').details.sigma).toBeGreaterThan(0.3);
  });

  it('flags a stuck noisy series before the suspect span: a run that long is improbable under its noise', () => {
    const m = new SeriesMonitor(spec, params);
    // Noise of about ±0.5 a minute against a tolerance of 0.1 (the resolution): ten equal values cannot be noise.
    const out = feed(m, [...series(150), ...series(30, () => 21.3, T0 + 150 * MIN)]);
    const stuck = out.slice(150).map((o) => check(o, 'flat_line'));
    expect(stuck[8]!.flag).toBe(1); // 9 samples: fewer than suspect_samples
    const first = stuck.findIndex((r) => r.flag === 3);
    expect(first).toBeGreaterThanOrEqual(9);
    expect(first).toBeLessThan(20); // minutes, not the hour of suspect_after
    expect(stuck[first]!.details.healthyChance as number).toBeLessThanOrEqual(1e-9);
    expect(stuck[first - 1]!.details.healthyChance as number).toBeGreaterThan(1e-9);
    // The noise is the one measured before the run: its zeros do not shrink it.
    expect(stuck[first]!.details.noise).toBe(stuck[0]!.details.noise);
    // A state round trip keeps the run's noise.
    const restored = new SeriesMonitor(spec, params, m.state());
    expect(check(restored.observe({ ts: T0 + 180 * MIN, value: 21.3 }), 'flat_line').flag).toBe(3);
  });

  it('does not take the step back from a stuck stretch to the live level for a spike', () => {
    const m = new SeriesMonitor(spec, params);
    const before = series(150);
    const stuck = series(60, () => 21.3, T0 + 150 * MIN);
    // The live level moved on while the sensor was frozen, 8 units above it; the first live value is a local peak.
    const after = series(30, (i) => wiggle(i + 2) + 9, T0 + 210 * MIN);
    const out = feed(m, [...before, ...stuck, ...after]);
    const recovery = check(out[211]!, 'spike'); // judges the first reading after the stuck stretch
    expect(recovery.flag).toBe(2);
    expect(recovery.details.reason).toMatch(/recovery, not a spike/);
    expect(out.slice(210).filter((o) => check(o, 'spike').flag >= 3)).toEqual([]);
    // A spike after the recovery is still one.
    m.observe({ ts: T0 + 240 * MIN, value: wiggle(32) + 19 });
    expect(check(m.observe({ ts: T0 + 241 * MIN, value: wiggle(33) + 9 }), 'spike')).toMatchObject({
      flag: 4,
      details: { readingTs: T0 + 240 * MIN },
    });
  });

  it('waits the suspect span when the noise is about the resolution, and with suspect_chance 0', () => {
    // Whole units whose readings mostly repeat (a battery-like gauge): the noise floors at the resolution, so
    // an hour of one value is not improbable, and only the duration decides.
    const coarse = { ...spec, resolution: 1 };
    const steps = series(100, (i) => 80 + 2 * (Math.floor(i / 3) % 2));
    const flat = series(61, () => 80, T0 + 100 * MIN);
    const out = feed(new SeriesMonitor(coarse, params), [...steps, ...flat]).slice(100);
    expect(check(out[59]!, 'flat_line').flag).toBe(1);
    expect(check(out[60]!, 'flat_line').flag).toBe(3);
    const durationOnly = { ...params, flatLine: { ...params.flatLine, suspectChance: 0 } };
    const noisy = feed(new SeriesMonitor(spec, durationOnly), [
      ...series(150),
      ...series(61, () => 21.3, T0 + 150 * MIN),
    ]).slice(150);
    expect(check(noisy[59]!, 'flat_line').flag).toBe(1);
    expect(check(noisy[60]!, 'flat_line').flag).toBe(3);
  });
  it('flags a gap by the device cadence: suspect over 3 intervals, fail over 10', () => {
    const m = new SeriesMonitor(spec, params);
    m.observe({ ts: T0, value: 20 });
    expect(check(m.observe({ ts: T0 + 3 * MIN, value: 20 }), 'gap').flag).toBe(1);
    expect(check(m.observe({ ts: T0 + 7 * MIN, value: 20 }), 'gap')).toMatchObject({
      flag: 3,
      observed: 240,
      threshold: 180,
      details: { missedIntervals: 3, intervalSource: 'device' },
    });
    expect(check(m.observe({ ts: T0 + 18 * MIN, value: 20 }), 'gap')).toMatchObject({
      flag: 4,
      threshold: 600,
    });
    // The heartbeat between readings, for a device that went silent.
    expect(m.gapAt(T0 + 20 * MIN).flag).toBe(1);
    expect(m.gapAt(T0 + 30 * MIN).flag).toBe(4);
  });

  it('learns the cadence from the readings when neither the device nor the rules give one', () => {
    const m = new SeriesMonitor({ metric: 'temperature' }, params);
    const out = feed(m, series(10, wiggle, T0, 5 * MIN));
    expect(check(out[4]!, 'gap').details.reason).toMatch(/no expected interval/);
    expect(check(out[9]!, 'gap')).toMatchObject({
      flag: 1,
      details: { intervalSource: 'learned', expectedIntervalS: 300 },
    });
    expect(check(m.observe({ ts: T0 + 9 * 5 * MIN + 20 * MIN, value: 20 }), 'gap').flag).toBe(3);
  });

  it('detects a gap over a restart, and does not take the jump across it for a spike or a flat line', () => {
    const first = new SeriesMonitor(spec, params);
    feed(
      first,
      series(60, () => 20),
    );
    // The hub restarts with the persisted state; the device was silent for 2 hours meanwhile.
    const restored = new SeriesMonitor(spec, params, JSON.parse(JSON.stringify(first.state())));
    const after = T0 + 59 * MIN + 2 * 3600_000;
    const o = restored.observe({ ts: after, value: 20 });
    expect(check(o, 'gap')).toMatchObject({ flag: 4, observed: 7200 });
    // The flat run before the gap (59 min of 20.0) does not continue across it.
    expect(check(o, 'flat_line')).toMatchObject({ flag: 1, details: { samples: 1 } });
    expect(check(o, 'rate_of_change').details.reason).toBe('first value after a gap');
    const next = restored.observe({ ts: after + MIN, value: 20 });
    expect(check(next, 'spike').flag).toBe(2);
  });

  it('continues after a state round trip exactly as without the restart', () => {
    const readings = [
      ...series(200),
      { ts: T0 + 200 * MIN, value: 40 },
      ...series(100, (i) => wiggle(i) + (i > 50 ? 0 : 0.01), T0 + 201 * MIN),
      ...series(80, () => 21, T0 + 400 * MIN),
    ];
    const straight = new SeriesMonitor(spec, params);
    const expected = feed(straight, readings);
    const half = new SeriesMonitor(spec, params);
    const cut = 190;
    const got = feed(half, readings.slice(0, cut));
    const resumed = new SeriesMonitor(spec, params, JSON.parse(JSON.stringify(half.state())));
    got.push(...feed(resumed, readings.slice(cut)));
    expect(got).toEqual(expected);
    expect(resumed.state()).toEqual(straight.state());
  });

  it('keeps its memory bounded by the sigma window', () => {
    const m = new SeriesMonitor(spec, { ...params, sigma: { window: 50, minSamples: 20 } });
    feed(m, series(1000));
    const s = m.state() as {
      diffs: { items: unknown[] };
      rates: { items: unknown[] };
      intervals: { items: unknown[] };
    };
    expect(s.diffs.items).toHaveLength(50);
    expect(s.rates.items).toHaveLength(50);
    expect(s.intervals.items.length).toBeLessThanOrEqual(31);
    expect(JSON.stringify(s).length).toBeLessThan(5000);
  });
});
