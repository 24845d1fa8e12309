import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { ingestGroupId, readTelemetryConnector } from '../../../src/ingest/index.ts';
import { defaultTicketSettings, ticketQueueName } from '../../../src/itsm/index.ts';
import { checkRuleMetrics, loadAlertRules } from '../../../src/quality/index.ts';

// Typos in the operator's files are refused with file, line and column, never read as a default.
const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-operator-files-'));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('operator files', () => {
  it('a duration under a misspelt key is refused, not read as 0', () => {
    const file = write(
      'rules-typo.yaml',
      'rules:\n  - name: vib_high\n    kind: threshold\n    metric: vibration\n    above: 10\n    duration: 2m\n',
    );
    expect(() => loadAlertRules(file)).toThrow(`${file}:6:5: rules[0].duration: unknown key 'duration'`);
  });

  it('a duration that is not one is refused with its line', () => {
    const file = write(
      'rules-duration.yaml',
      'rules:\n  - name: vib_high\n    kind: threshold\n    metric: vibration\n    above: 10\n    for: 2 minutes\n',
    );
    expect(() => loadAlertRules(file)).toThrow(`${file}:6:10: rules[0].for: invalid duration "2 minutes"`);
  });

  it('a metric that is not a code in dw.dim_metric is refused with its line and the known codes', () => {
    const file = write(
      'rules-metric.yaml',
      'rules:\n  - name: vib_high\n    kind: threshold\n    metric: vib\n    above: 10\n',
    );
    const rules = loadAlertRules(file);
    expect(() => checkRuleMetrics(rules, new Set(['temperature', 'vibration']))).toThrow(
      `${file}:4:13: rules[0].metric: 'vib' is not a metric code in dw.dim_metric; known: temperature, vibration`,
    );
    expect(() => checkRuleMetrics(rules, new Set(['vib']))).not.toThrow();
  });

  it('a misspelt group_id is refused; without one the group derives from the instance name', () => {
    const typo = write('telemetry-typo.yaml', 'topics: [telemetry.acme]\ngroupid: mine\n');
    expect(() => readTelemetryConnector(typo)).toThrow(`${typo}:2:1: groupid: unknown key 'groupid'`);
    const plain = readTelemetryConnector(write('telemetry.yaml', 'topics: [telemetry.acme]\n'));
    expect(ingestGroupId(plain, 'iot-hub')).toBe('iot-hub-ingest');
    expect(ingestGroupId(plain, 'plant-a')).toBe('plant-a-ingest');
    const named = readTelemetryConnector(write('telemetry-named.yaml', 'topics: [t]\ngroup_id: mine\n'));
    expect(ingestGroupId(named, 'plant-a')).toBe('mine');
  });

  it("the ticket queue is the instance's own unless the settings name one", () => {
    expect(ticketQueueName(defaultTicketSettings, 'plant-a')).toBe('plant-a-servicenow-tickets');
    expect(ticketQueueName({ ...defaultTicketSettings, queueName: 'q' }, 'plant-a')).toBe('q');
  });

  it('HUB_INSTANCE names the deployment and is checked', () => {
    const none = path.join(dir, 'none.yaml');
    expect(loadConfig({ file: write('none.yaml', '{}\n'), env: {} }).instance).toBe('iot-hub');
    expect(loadConfig({ file: none, env: { HUB_INSTANCE: 'plant-a' } }).instance).toBe('plant-a');
    expect(() => loadConfig({ file: none, env: { HUB_INSTANCE: 'plant a/b' } })).toThrow(
      "HUB_INSTANCE: 'plant a/b' must be 1-64 characters",
    );
  });
});
