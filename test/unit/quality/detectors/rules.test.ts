import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_PARAMETERS,
  checkQualityRuleMetrics,
  loadQualityRules,
  parametersFor,
  parseQualityRules,
} from '../../../../src/quality/detectors/index.ts';

const parseError = (text: string) => {
  try {
    parseQualityRules(text, 'quality-rules.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the rules to be rejected');
};

describe('quality rules file', () => {
  it('loads connectors/quality-rules.yaml and resolves defaults, asset class and metric in that order', () => {
    const rules = loadQualityRules();
    const fleet = parametersFor(rules, 'temperature');
    expect(fleet.drift.cusumH).toBe(12);
    expect(fleet.flatLine.tolerance).toBe(0.05);
    expect(fleet.calibrationDue.warnDaysBefore).toBe(14);
    expect(fleet.flatLine.failAfterS).toBe(4 * 3600);
    const critical = parametersFor(rules, 'vibration', 'critical');
    expect(critical.drift.cusumH).toBe(7);
    expect(critical.grossRange.suspectMax).toBe(11.2);
    expect(critical.flatLine.suspectAfterS).toBe(7200);
    // An unknown metric or class gets the defaults.
    expect(parametersFor(rules, 'humidity', 'unheard_of')).toEqual(parametersFor(rules, 'humidity'));
  });

  it('fills what a file leaves out with the built-in defaults; the metric within a class wins last', () => {
    const rules = parseQualityRules(`
defaults:
  spike: { suspect_sigma: 5 }
asset_classes:
  critical:
    spike: { fail_sigma: 12 }
metrics:
  pressure:
    spike: { fail_sigma: 10 }
    asset_classes:
      critical:
        spike: { suspect_sigma: 6 }
`);
    expect(parametersFor(rules, 'temperature')).toEqual({
      ...BUILT_IN_PARAMETERS,
      spike: { suspectSigma: 5, failSigma: 8 },
    });
    expect(parametersFor(rules, 'pressure', 'critical').spike).toEqual({ suspectSigma: 6, failSigma: 10 });
    expect(parametersFor(rules, 'temperature', 'critical').spike).toEqual({ suspectSigma: 5, failSigma: 12 });
    expect(parametersFor(parseQualityRules(''), 'x')).toEqual(BUILT_IN_PARAMETERS);
  });

  it('names the file, line, path and what to write for an unknown key', () => {
    expect(parseError('defaults:\n  spikes: { suspect_sigma: 4 }\n')).toBe(
      "quality-rules.yaml:2:3: defaults.spikes: unknown key 'spikes'; allowed here: hysteresis, gap, gross_range, sigma, spike, rate_of_change, flat_line, drift, calibration_due, calibration_step",
    );
  });

  it('asks for a unit on a duration', () => {
    expect(parseError('metrics:\n  temperature:\n    flat_line: { fail_after: 4 }\n')).toBe(
      'quality-rules.yaml:3:30: metrics.temperature.flat_line.fail_after: write a duration with a unit, e.g. 90s, 5m, 1h or 14d',
    );
    expect(parseError('defaults:\n  gap: { default_interval: 5 }\n')).toMatch(
      /defaults\.gap\.default_interval: write a duration with a unit \(e\.g\. 1m\), or null/,
    );
  });

  it('rejects a fail threshold below the suspect one, where the more specific value was written', () => {
    expect(
      parseError(
        'defaults:\n  spike: { suspect_sigma: 4 }\nmetrics:\n  temperature:\n    spike: { fail_sigma: 3 }\n',
      ),
    ).toBe(
      'quality-rules.yaml:5:26: metrics.temperature.spike.fail_sigma: for metric temperature, spike.fail_sigma (3) must be greater than spike.suspect_sigma (4); raise spike.fail_sigma or lower spike.suspect_sigma',
    );
    expect(parseError('asset_classes:\n  critical:\n    flat_line: { suspect_after: 5h }\n')).toMatch(
      /^quality-rules\.yaml:3:33: asset_classes\.critical\.flat_line\.suspect_after: for asset class critical, flat_line\.fail_after \(14400\) must be at least flat_line\.suspect_after \(18000\)/,
    );
  });

  it('rejects wrong types and out-of-range numbers with the path', () => {
    expect(parseError('defaults:\n  drift: { ewma_lambda: 1.5, min_peers: 0 }\n')).toBe(
      [
        'quality-rules.yaml:2:25: defaults.drift.ewma_lambda: must be <= 1',
        'quality-rules.yaml:2:41: defaults.drift.min_peers: must be >= 1',
      ].join('\n'),
    );
    expect(parseError('metrics:\n  power:\n    flat_line: { suspect_chance: 2 }\n')).toBe(
      'quality-rules.yaml:3:34: metrics.power.flat_line.suspect_chance: must be <= 1',
    );
    expect(parseError('asset_classes:\n  critical:\n    asset_classes: {}\n')).toMatch(
      /asset_classes\.critical\.asset_classes: unknown key 'asset_classes'/,
    );
  });

  it('names the file when it cannot be read, and loads a file by path', () => {
    expect(() => loadQualityRules('/nonexistent/quality-rules.yaml')).toThrow(
      /^\/nonexistent\/quality-rules\.yaml: cannot read the file/,
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'e1-rules-'));
    const file = path.join(dir, 'rules.yaml');
    writeFileSync(file, 'defaults:\n  gap: { warn_intervals: 4, fail_intervals: 2 }\n');
    expect(() => loadQualityRules(file)).toThrow(`${file}:2:45: defaults.gap.fail_intervals: for defaults`);
  });

  it('checks metric codes against dw.dim_metric', () => {
    const rules = loadQualityRules();
    expect(() =>
      checkQualityRuleMetrics(rules, new Set(['temperature', 'vibration', 'pressure', 'battery'])),
    ).not.toThrow();
    expect(() => checkQualityRuleMetrics(rules, new Set(['temperature']))).toThrow(
      "connectors/quality-rules.yaml: metrics.vibration: 'vibration' is not a metric code in dw.dim_metric; known: temperature",
    );
  });
});
