import { type CompiledMapping, ensureError, type MapResult } from '../mapping/index.ts';
import { TicketContentError } from './servicenow-error.ts';
import type { AlertTicketRow } from './ticket-store.ts';

/** What the outbound mapping makes of an alert: the incident's fields, its correlation_id and opening note. */
export interface IncidentContent {
  correlationId: string;
  /** Incident fields as the Table API stores them (strings); nulls left out, so the instance's defaults apply. */
  fields: Record<string, string>;
  openingNote: string;
}

/** The alert as the outbound mapping's source contract describes it (mappings/contracts/hub-alert-v1.schema.json). */
export function alertRecord(row: AlertTicketRow): Record<string, unknown> {
  const e = row.evidence ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? readableNumber(v) : null);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    alert_id: row.id,
    device_id: row.device_id ?? row.alert_key,
    device_ci: str(e.device_ci),
    metric: row.metric_code,
    check_name: row.rule,
    severity: row.severity,
    observed_value: num(e.value),
    threshold: num(e.threshold),
    unit: str(e.unit) ?? row.metric_unit,
    window: str(e.window),
    opened_at: row.opened_at.toISOString(),
    detector_version: str(e.detector),
    asset_nk: row.asset_nk ?? row.asset_id,
    asset_name: row.asset_name,
    site_name: row.site_name,
    line_name: row.line_name,
    criticality: row.criticality,
    assignment_group: str(e.assignment_group),
    device_in_mdm: row.device_in_mdm,
  };
}

/**
 * A value as a person reads it in an incident: 4 significant digits, but never fewer than the integer
 * digits (10.160000000000002 → 10.16, 0.000123456 → 0.0001235, 12345.6 → 12346).
 */
export function readableNumber(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const integerDigits = Math.floor(Math.log10(Math.abs(v))) + 1;
  return Number(v.toPrecision(Math.min(100, Math.max(4, integerDigits))));
}

/**
 * Maps the alert with the outbound mapping (mappings/alert-incident-v1.yaml) on the asynchronous path, the one
 * `iot-hub mappings test` runs, so a JSONata field works here as it did there. Throws TicketContentError when
 * the mapping fails (the message starts with the mapping's file:line:col when it names one), dead-letters the
 * alert or gives no usable correlation_id: no retry can fix that.
 */
export async function incidentContent(
  mapping: CompiledMapping,
  row: AlertTicketRow,
): Promise<IncidentContent> {
  let result: MapResult;
  try {
    result = await mapping.mapAsync(alertRecord(row));
  } catch (e) {
    throw new TicketContentError(
      `mapping ${mapping.id} v${mapping.version} failed on alert ${row.id}: ${ensureError(e).message}`,
    );
  }
  if (result.deadLetter || result.rows.length === 0) {
    const why = result.deadLetter ? `${result.deadLetter.code}: ${result.deadLetter.message}` : 'no row';
    throw new TicketContentError(
      `mapping ${mapping.id} v${mapping.version} rejected alert ${row.id}: ${why}`,
    );
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.rows[0]!)) {
    if (name === 'mapping_id' || name === 'mapping_version' || value === null || value === undefined)
      continue;
    fields[name] = typeof value === 'string' ? value : String(value);
  }
  const correlationId = fields.correlation_id;
  // Encoded queries cannot escape ^ or a comma: such an id could match other incidents.
  if (!correlationId || !/^[A-Za-z0-9._:-]{1,100}$/.test(correlationId)) {
    throw new TicketContentError(
      `alert ${row.id}: correlation_id ${JSON.stringify(correlationId ?? null)} must be 1–100 characters of [A-Za-z0-9._:-]; build it with correlation_id(...) in ${mapping.file}, which encodes other characters (docs/servicenow-tickets.md)`,
    );
  }
  const openingNote = fields.work_notes ?? `Opened by IoT hub from alert ${row.id}`;
  delete fields.work_notes;
  return { correlationId, fields, openingNote };
}

/**
 * The fields an escalation sends: urgency High, and impact one step higher than the mapping gives (never
 * below High). Priority is derived by the instance and never sent.
 */
export function escalatedFields(fields: Readonly<Record<string, string>>): {
  urgency: string;
  impact: string;
} {
  const impact = Number(fields.impact ?? '3');
  return { urgency: '1', impact: String(Math.max(1, (Number.isFinite(impact) ? impact : 3) - 1)) };
}

/** The text every hub work note ends with; the journal is searched for it after a write whose answer was lost. */
export function noteMarker(row: AlertTicketRow, revision: number): string {
  return `(iot-hub alert ${row.id} rev ${revision})`;
}

/** One line about the latest evidence: value, limit and time when the source gave them. */
export function evidenceSummary(row: AlertTicketRow): string {
  const e = row.evidence ?? {};
  const parts: string[] = [];
  const unit = typeof e.unit === 'string' && e.unit !== '' ? e.unit : row.metric_unit;
  const withUnit = (v: unknown) =>
    `${typeof v === 'number' ? readableNumber(v) : String(v)}${unit ? ` ${unit}` : ''}`;
  if (e.value !== undefined) parts.push(`value ${withUnit(e.value)}`);
  if (e.threshold !== undefined) parts.push(`limit ${withUnit(e.threshold)}`);
  if (e.silent_for_s !== undefined) parts.push(`silent for ${String(e.silent_for_s)} s`);
  const at = e.at ?? row.last_seen_at?.toISOString();
  if (at) parts.push(`at ${String(at)}`);
  return parts.length > 0 ? parts.join(', ') : 'no details';
}

/** The note line for repeats not reported yet; the storm test adds these counts up per incident. */
export function repeatLine(count: number, row: AlertTicketRow): string {
  return `Repeated ${count} more time(s); last: ${evidenceSummary(row)}`;
}
