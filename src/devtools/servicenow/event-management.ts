import { apiAclFailure } from './access-control.ts';
import { ApiFailure, methodNotSupported } from './api-failure.ts';
import type { ApiRequest, ApiResponse, EmulatorContext } from './api-types.ts';
import { glideDateTime } from './glide-values.ts';
import type { StoredRow } from './record-store.ts';
import { insertRecord, updateRecord, type WriteContext } from './write-record.ts';

export const eventRoute = /^\/api\/global\/em\/jsonv2\/?$/;

/**
 * `POST /api/global/em/jsonv2`: stores each record in `em_event`, then opens, updates or closes the
 * `em_alert` with the same message key. Answers `{"result":{"Default Bulk Endpoint":"N events were
 * inserted"}}`. The instance processes events asynchronously; here processing is done before the answer.
 */
export function handleEventSubmission(ctx: EmulatorContext, req: ApiRequest): ApiResponse {
  if (req.method !== 'POST') throw methodNotSupported(req.method);
  // The jsonv2 endpoint's REST ACL: an integration account needs evt_mgmt_integration.
  if (!ctx.access.hasAny(req.user.roles ?? new Set(), ['evt_mgmt_integration'])) throw apiAclFailure();
  const records = (req.body as { records?: unknown } | undefined)?.records;
  // The docs do not say how a body without `records` is refused; a 400 in the usual envelope is our choice.
  if (!Array.isArray(records))
    throw new ApiFailure(400, 'Invalid request', 'Request body must contain a "records" array');
  const write: WriteContext = { ...ctx, user: req.user };
  for (const record of records) {
    const input = typeof record === 'object' && record !== null ? (record as Record<string, unknown>) : {};
    const event = insertRecord(write, 'em_event', {
      ...input,
      state: 'Ready',
      processing_notes: '',
      alert: '',
    });
    processEvent(ctx, write, event);
  }
  return {
    status: 200,
    body: { result: { 'Default Bulk Endpoint': `${records.length} events were inserted` } },
  };
}

function processEvent(ctx: EmulatorContext, write: WriteContext, event: StoredRow): void {
  const e = event.values;
  const finish = (state: string, notes = '', alert = '') =>
    updateRecord(write, 'em_event', event, { state, processing_notes: notes, alert });
  const infoError = checkAdditionalInfo(e.additional_info ?? '');
  if (infoError) return void finish('Error', infoError);
  // An event without severity is kept but opens no alert.
  if ((e.severity ?? '') === '') return void finish('Processed', 'No severity: no alert');

  const key = e.message_key || `${e.source}${e.node}${e.type}${e.resource}${e.metric_name}`;
  const open = ctx.store
    .list('em_alert')
    .filter((a) => a.values.message_key === key && a.values.state !== 'Closed')
    .at(-1);
  const eventTime = e.time_of_event || glideDateTime(ctx.now());
  const counted = (alert: StoredRow) => String(Number(alert.values.event_count ?? '0') + 1);

  if (e.severity === '0' || e.resolution_state === 'Closing') {
    if (!open) return void finish('Processed', 'Clear event: no open alert');
    updateRecord(write, 'em_alert', open, {
      state: 'Closed',
      event_count: counted(open),
      last_remote_time: eventTime,
    });
    return void finish('Processed', '', open.values.sys_id);
  }
  const fields = {
    severity: e.severity,
    description: e.description,
    additional_info: e.additional_info,
    last_remote_time: eventTime,
  };
  if (open) {
    updateRecord(write, 'em_alert', open, { ...fields, event_count: counted(open) });
    return void finish('Processed', '', open.values.sys_id);
  }
  const alert = insertRecord(write, 'em_alert', {
    ...fields,
    number: ctx.store.nextNumber('Alert'),
    message_key: key,
    source: e.source,
    event_class: e.event_class,
    node: e.node,
    resource: e.resource,
    metric_name: e.metric_name,
    type: e.type,
    state: 'Open',
    event_count: '1',
    initial_remote_time: eventTime,
    cmdb_ci: bindNode(ctx, e.node ?? ''),
  });
  finish('Processed', '', alert.values.sys_id);
}

// `node` binds the event to a CI by name, FQDN, IP or MAC address.
function bindNode(ctx: EmulatorContext, node: string): string {
  if (node === '') return '';
  const ci = ctx.store
    .list('cmdb_ci')
    .find((row) =>
      [row.values.name, row.values.fqdn, row.values.ip_address, row.values.mac_address].includes(node),
    );
  return ci?.values.sys_id ?? '';
}

// additional_info must be a JSON string of an object whose values are strings: {"CPU":"100"}, not
// {"CPU":100}.
function checkAdditionalInfo(text: string): string | undefined {
  if (text === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    const valid =
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      Object.values(parsed).every((v) => typeof v === 'string');
    return valid ? undefined : `additional_info must be a JSON object of string values: ${text}`;
  } catch {
    return `additional_info is not valid JSON: ${text}`;
  }
}
