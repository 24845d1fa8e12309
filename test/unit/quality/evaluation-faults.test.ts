import { describe, expect, it } from 'vitest';
import { createSimulationRun } from '../../../src/devtools/index.ts';

// The faults the quality evaluation (bench/quality.ts) scores come from the simulator's ground truth. A stuck
// episode or a drift is injected only where it changes what the sensor reports (docs/data-quality.md,
// "Evaluation"): not on a battery gauge, whose healthy readings repeat for hours and trend by themselves.

const HOUR = 3_600_000;

function faultsOf(seed: number) {
  const run = createSimulationRun({
    seed,
    devices: 60,
    durationMs: 6 * HOUR,
    intervalMs: 60_000,
    start: new Date('2026-11-01T00:00:00Z'),
    faults: { stuck: 0.002, drift: 0.5, spike: 0.001 },
  });
  for (const _ of run.records());
  return run;
}

describe('evaluation faults', () => {
  it('injects stuck and drift on every metric that can show them, and neither on battery', () => {
    const run = faultsOf(5);
    const metricsWith = (kind: string) =>
      new Set(run.faults.flatMap((f) => (f.kind === kind && 'metric' in f ? [f.metric] : [])));
    const streamed = new Set(run.fleet.devices.flatMap((d) => d.metrics.map((m) => m.metric)));
    expect(streamed.has('battery')).toBe(true);
    for (const kind of ['stuck', 'drift']) {
      expect(metricsWith(kind).has('battery'), kind).toBe(false);
      expect(metricsWith(kind).size, kind).toBeGreaterThanOrEqual(3);
    }
    // The same seed gives the same faults.
    expect(faultsOf(5).faults).toEqual(run.faults);
  });
});
