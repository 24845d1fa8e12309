import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, validateYaml } from '../../../src/config/index.ts';
import { readTelemetryConnector } from '../../../src/ingest/connector-config.ts';
import { loadTicketSettings } from '../../../src/itsm/ticket-settings.ts';
import { loadAlertRules, parseAlertRules } from '../../../src/quality/alert-rules.ts';

const connectors = new URL('../../../connectors/', import.meta.url).pathname;
const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-connectors-'));

/** A copy of a shipped connector file with the first `from:` key renamed to `to:`, and where that key is. */
function misspelt(name: string, from: string, to: string): { file: string; line: number; col: number } {
  const lines = readFileSync(path.join(connectors, name), 'utf8').split('\n');
  const index = lines.findIndex((l) => new RegExp(`^[\\s-]*${from}:`).test(l));
  expect(index, `${name} has no '${from}:' line`).toBeGreaterThanOrEqual(0);
  const col = lines[index]!.indexOf(`${from}:`) + 1;
  lines[index] = lines[index]!.replace(`${from}:`, `${to}:`);
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n'));
  return { file, line: index + 1, col };
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('shipped connector files', () => {
  it.each(['telemetry', 'alert-rules', 'servicenow-tickets'])(
    'connectors/%s.yaml names its schema for editors',
    (name) => {
      const first = readFileSync(path.join(connectors, `${name}.yaml`), 'utf8').split('\n')[0];
      expect(first).toBe(`# yaml-language-server: $schema=./${name}.schema.json`);
      expect(existsSync(path.join(connectors, `${name}.schema.json`))).toBe(true);
    },
  );

  it('validate against their schemas', () => {
    expect(readTelemetryConnector(path.join(connectors, 'telemetry.yaml'))).toEqual({
      groupId: null,
      topics: ['telemetry.acme', 'telemetry.flatline'],
      partitions: 4,
      mappings: 'mappings',
      limits: { maxMessageBytes: 1_048_576, maxDepth: 64 },
    });
    expect(loadAlertRules(path.join(connectors, 'alert-rules.yaml'))).toHaveLength(4);
    expect(loadTicketSettings(path.join(connectors, 'servicenow-tickets.yaml'))).toMatchObject({
      mode: 'incident',
      queueName: '',
      pacing: true,
    });
  });
});

describe('a misspelt key', () => {
  it('in telemetry.yaml names file, line, column and the allowed keys', () => {
    const { file, line, col } = misspelt('telemetry.yaml', 'partitions', 'partitons');
    expect(messageOf(() => readTelemetryConnector(file))).toBe(
      `${file}:${line}:${col}: partitons: unknown key 'partitons'; allowed here: kind, group_id, topics, partitions, mappings, limits`,
    );
  });

  it('in alert-rules.yaml lists the keys of that rule kind', () => {
    const { file, line, col } = misspelt('alert-rules.yaml', 'clear_for', 'clear_fr');
    expect(messageOf(() => loadAlertRules(file))).toBe(
      `${file}:${line}:${col}: rules[0].clear_fr: unknown key 'clear_fr'; allowed here: ` +
        'name, kind, metric, above, below, for, clear_for, hysteresis, severity, escalate',
    );
    const heartbeat = misspelt('alert-rules.yaml', 'missed_intervals', 'missed');
    expect(messageOf(() => loadAlertRules(heartbeat.file))).toBe(
      `${heartbeat.file}:${heartbeat.line}:${heartbeat.col}: rules[3].missed: unknown key 'missed'; allowed here: ` +
        'name, kind, missed_intervals, default_interval, severity',
    );
  });

  it('in servicenow-tickets.yaml names the tickets key', () => {
    const { file, line, col } = misspelt('servicenow-tickets.yaml', 'concurrency', 'concurency');
    expect(messageOf(() => loadTicketSettings(file))).toBe(
      `${file}:${line}:${col}: tickets.concurency: unknown key 'concurency'; allowed here: mode, queue_name, ` +
        'concurrency, attempts, backoff_ms, backoff_max_ms, request_timeout_ms, reconcile_interval_ms, ' +
        'close_code, pacing, busy_backoff_ms, mapping_file, event_source, event_class',
    );
  });
});

describe('other problems', () => {
  it('gives every problem of a file, one line each, with the schema sentence where it has one', () => {
    const text = [
      'rules:',
      '  - name: hot',
      '    kind: threshold',
      '    above: 1',
      '    severity: loud',
    ].join('\n');
    expect(messageOf(() => parseAlertRules(text, 'r.yaml')).split('\n')).toEqual([
      "r.yaml:2:5: rules[0]: must have required property 'metric'",
      'r.yaml:5:15: rules[0].severity: must be one of "info", "warn", "fail"',
    ]);
  });

  it('places the checks the schema cannot make (durations, unique names) too', () => {
    const text = [
      'rules:',
      '  - { name: a, kind: heartbeat }',
      '  - name: b',
      '    kind: heartbeat',
      '    default_interval: 1 hour',
    ].join('\n');
    expect(messageOf(() => parseAlertRules(text, 'r.yaml'))).toBe(
      'r.yaml:5:23: rules[1].default_interval: invalid duration "1 hour"; write e.g. 90s, 5m or 1h',
    );
    expect(
      messageOf(() =>
        parseAlertRules('rules: [{ name: a, kind: heartbeat }, { name: a, kind: heartbeat }]', 'r.yaml'),
      ),
    ).toBe("r.yaml:1:47: rules[1].name: rule name 'a' is used twice");
  });

  it('rejects wrong values in the tickets file, listed in file order', () => {
    const file = path.join(dir, 'tickets-types.yaml');
    writeFileSync(file, 'tickets:\n  concurrency: many\n  queue_name: "a:b"\n');
    expect(messageOf(() => loadTicketSettings(file)).split('\n')).toEqual([
      `${file}:2:16: tickets.concurrency: must be integer`,
      `${file}:3:15: tickets.queue_name: queue_name must be a name without ':' (bullmq uses ':' in its Redis keys)`,
    ]);
  });

  it('validates any text against any schema, and locates paths for later checks', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      properties: { a: { type: 'array', items: { type: 'integer' } } },
    };
    const doc = validateYaml<{ a: number[] }>('a:\n  - 1\n  - 2\n', 'x.yaml', schema);
    expect(doc.value).toEqual({ a: [1, 2] });
    expect(doc.at(['a', 1])).toBe('x.yaml:3:5: a[1]');
    expect(messageOf(() => validateYaml('a: [1, two]', 'x.yaml', schema))).toBe(
      'x.yaml:1:8: a[1]: must be integer',
    );
  });
});
