import { describe, expect, it } from 'vitest';
import { loadAlertRules, parseAlertRules, type ThresholdRule } from '../../../src/quality/index.ts';
import { applyReading, normalState } from '../../../src/quality/threshold-tracker.ts';

describe('alert rules file', () => {
  it('reads connectors/alert-rules.yaml', () => {
    const rules = loadAlertRules(new URL('../../../connectors/alert-rules.yaml', import.meta.url).pathname);
    expect(rules.map((r) => r.name)).toEqual([
      'temperature_high',
      'temperature_low',
      'vibration_high',
      'heartbeat_lost',
    ]);
    expect(rules[0]).toMatchObject({
      kind: 'threshold',
      limit: 'device.range_max',
      forMs: 300_000,
      hysteresis: 2,
    });
  });

  it.each([
    ['rules: {}', "expected a top-level 'rules:' list"],
    ['rules: [{ name: Bad-Name, kind: threshold }]', "'name' must be snake_case"],
    ['rules: [{ name: a, kind: threshold, metric: t }]', "give exactly one of 'above' and 'below'"],
    [
      'rules: [{ name: a, kind: threshold, metric: t, above: device.max }]',
      'must be a number, device.range_max or device.range_min',
    ],
    [
      'rules: [{ name: a, kind: threshold, metric: t, above: 1, for: 5 minutes }]',
      'rules[0].for: invalid duration "5 minutes"',
    ],
    ['rules: [{ name: a, kind: heartbeat }, { name: a, kind: heartbeat }]', "rule name 'a' is used twice"],
    ['rules: [{ name: a, kind: gauge }]', "kind must be 'threshold' or 'heartbeat'"],
  ])('rejects %s', (text, message) => {
    expect(() => parseAlertRules(text, 'rules.yaml')).toThrow(message);
  });
});

describe('threshold tracker', () => {
  const [rule] = parseAlertRules(`
rules:
  - { name: hot, kind: threshold, metric: t, above: 80, for: 60s, clear_for: 60s, hysteresis: 2, escalate: { margin: 10 } }
`) as [ThresholdRule];
  const s = 1000;

  it('opens after `for`, keeps the alert inside the hysteresis band, clears after `clear_for`', () => {
    const state = normalState();
    const steps = [
      [0, 85],
      [30, 85],
      [60, 85], // 60 s in breach: open
      [90, 79], // below the limit, inside the band: nothing
      [120, 77], // recovered since 120
      [150, 77],
      [180, 77], // 60 s recovered: clear
    ].map(([t, v]) => applyReading(rule, state, t! * s, v!, 80).action);
    expect(steps).toEqual(['none', 'none', 'open', 'none', 'none', 'none', 'clear']);
  });

  it('escalates once beyond the margin, ignores old readings, and resets a short breach', () => {
    const state = normalState();
    expect(applyReading(rule, state, 0, 85, 80).action).toBe('none');
    expect(applyReading(rule, state, 30 * s, 70, 80).action).toBe('none'); // back to normal: flapping
    expect(applyReading(rule, state, 60 * s, 85, 80).action).toBe('none'); // a new breach starts here
    expect(applyReading(rule, state, 100 * s, 85, 80).action).toBe('none');
    expect(applyReading(rule, state, 120 * s, 95, 80)).toEqual({
      action: 'open',
      severe: true,
      breachSince: 60 * s,
    });
    expect(applyReading(rule, state, 150 * s, 95, 80).action).toBe('breach'); // opened severe: already escalated
    expect(applyReading(rule, state, 140 * s, 50, 80).action).toBe('none'); // older than the last reading
    expect(state.phase).toBe('active');
  });
});
