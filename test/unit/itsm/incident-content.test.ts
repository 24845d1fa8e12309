import { describe, expect, it } from 'vitest';
import { alertRecord, incidentContent, readableNumber } from '../../../src/itsm/incident-content.ts';
import { TicketContentError } from '../../../src/itsm/servicenow-error.ts';
import type { AlertTicketRow } from '../../../src/itsm/ticket-store.ts';
import { compileMappingText, loadMappingFile } from '../../../src/mapping/index.ts';

function row(overrides: Partial<AlertTicketRow> = {}): AlertTicketRow {
  return {
    id: 11,
    alert_key: 'G-50/fan1|temperature_high',
    device_id: 'G-50/fan1',
    asset_id: null,
    metric_code: 'temperature',
    rule: 'temperature_high',
    severity: 'warn',
    status: 'open',
    evidence: { value: 10.160000000000002, threshold: 8 },
    opened_at: new Date('2026-08-20T12:00:00Z'),
    escalated_at: null,
    cleared_at: null,
    last_seen_at: null,
    ticket_state: 'pending',
    ticket_number: null,
    ticket_sys_id: null,
    ticket_attempts: 0,
    revision: 1,
    ticket_revision: 0,
    repeat_count: 0,
    ticket_repeats_sent: 0,
    ticket_escalated: false,
    ticket_inflight: null,
    ticket_opened_at: null,
    asset_nk: null,
    asset_name: null,
    site_name: null,
    line_name: null,
    criticality: null,
    metric_unit: 'Cel',
    device_in_mdm: false,
    ...overrides,
  };
}

const header = `apiVersion: hub.mapping/v1
kind: OutboundMapping
id: jsonata-incident
version: 3
source: { kind: alert }
target: { system: servicenow, table: incident }
`;

describe('incident content', () => {
  it('rounds values to 4 significant digits, never dropping integer digits', () => {
    expect(readableNumber(10.160000000000002)).toBe(10.16);
    expect(readableNumber(0.000123456)).toBe(0.0001235);
    expect(readableNumber(12345.6)).toBe(12346);
    expect(readableNumber(-1.23456)).toBe(-1.235);
    expect(readableNumber(0)).toBe(0);
  });

  it('gives the shipped mapping the rounded value, the metric unit, and no CI for a device MDM does not know', async () => {
    const mapping = loadMappingFile('mappings/alert-incident-v1.yaml');
    expect(alertRecord(row())).toMatchObject({ observed_value: 10.16, unit: 'Cel', device_in_mdm: false });
    const content = await incidentContent(mapping, row());
    expect(content.correlationId).toBe('iothub:..G-50_2Ffan1:temperature:temperature_high');
    expect(content.fields.description).toContain('Observed: 10.16 Cel (threshold 8 Cel)');
    expect(content.fields.description).toContain('Asset: device not yet in MDM');
    expect(content.fields.description).not.toContain('unknown asset');
    expect(content.fields.cmdb_ci).toBeUndefined();
  });

  it('maps through the asynchronous path, so a JSONata field works as in `mappings test`', async () => {
    const mapping = compileMappingText(
      `${header}fields:
  correlation_id: 'correlation_id("iothub", $.device_id, $.check_name)'
  short_description: { expr: { jsonata: '"[" & $uppercase($root.severity) & "] " & $root.check_name' } }
`,
      'jsonata-incident.yaml',
    );
    expect(mapping.async).toBe(true);
    const content = await incidentContent(mapping, row());
    expect(content.fields.short_description).toBe('[WARN] temperature_high');
  });

  it('turns a mapping failure into a permanent TicketContentError naming file:line:col', async () => {
    const mapping = compileMappingText(
      `${header}fields:
  correlation_id: 'correlation_id("iothub", $.device_id)'
  short_description: { expr: { jsonata: '$error("no description for " & $root.check_name)' }, on_error: dead_letter }
`,
      'broken-incident.yaml',
    );
    const failure = await incidentContent(mapping, row()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TicketContentError);
    expect((failure as Error).message).toMatch(
      /^mapping jsonata-incident v3 rejected alert 11: JSONATA_FAILED: broken-incident\.yaml:\d+:\d+: /,
    );
  });
});
