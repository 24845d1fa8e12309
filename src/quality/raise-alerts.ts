import { context, propagation } from '@opentelemetry/api';
import type { Knex } from '../db/index.ts';
import { type AlertEvent, alertKey, emptyOutcome, type RaiseOutcome } from './alert-events.ts';
import { type ActiveAlertRow, type FoldedAlert, foldAlertEvents } from './alert-fold.ts';
import { alertEventsTotal } from './alert-metrics.ts';

/**
 * PostgreSQL NOTIFY channel raiseAlerts signals after committing a ticket intent. The payload is a JSON array
 * of the alert keys concerned, or '' when they do not fit (NOTIFY payloads stop at 8000 bytes): the ticket
 * delivery then scans for every undelivered intent.
 */
export const TICKET_NOTIFY_CHANNEL = 'hub_alert_ticket';

/** First half of the two-key advisory lock raiseAlerts takes per alert key ('AL'), so other locks do not collide. */
const advisoryClass = 0x414c;
const maxNotifyBytes = 7_500;

export interface RaiseAlertsOptions {
  /** Send the NOTIFY that wakes the ticket delivery; default true. */
  notify?: boolean;
  /**
   * The batch may already have been committed (a retry after an error whose outcome is unknown): events the
   * stored alerts already reflect are skipped and counted as `replayed` (FoldOptions.replay in alert-fold.ts).
   */
  replay?: boolean;
}

/**
 * The W3C trace context that raised an alert, kept in hub.alert.evidence.trace so the ticket delivery can link
 * its span to it (src/itsm/ticket-tracing.ts).
 */
export interface AlertTraceContext {
  traceparent: string;
  tracestate?: string;
}

/** The active trace context as W3C headers, or null when no span is active (or no propagator is registered). */
export function activeTraceContext(): AlertTraceContext | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return null;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

/**
 * Writes alert events to hub.alert in one transaction, in the order given, before anything is sent anywhere
 * (the alert row is the source of truth, docs/servicenow-tickets.md): a raise opens the key's alert, or
 * repeats, escalates or un-suppresses the active one; a clear clears it. Every change a ticket must reflect
 * bumps the alert's `revision` and marks its ticket intent `pending`; the ticket delivery (src/itsm) then
 * brings ServiceNow up to that revision. Suppressed alerts (open maintenance work order) carry no ticket
 * intent. A `failed` intent stays failed until retried on purpose (retryFailedTickets). The batch's keys are
 * locked (advisory locks, in a fixed order), so concurrent writers of the same key serialise; a batch costs a
 * few statements per touched alert, not per event, so a storm of repeats is cheap.
 *
 * The active OpenTelemetry context (W3C traceparent) is stored in each touched alert's evidence as `trace`.
 *
 * Returns the counts per outcome; an empty list does nothing. Database errors reject and roll the batch back.
 * Callers: the alert engine (threshold and heartbeat rules), the data-quality detectors, tests and the bench.
 */
export async function raiseAlerts(
  knex: Knex,
  events: readonly AlertEvent[],
  options: RaiseAlertsOptions = {},
): Promise<RaiseOutcome> {
  const outcome = emptyOutcome();
  if (events.length === 0) return outcome;
  const ticketedKeys = new Set<string>();
  const keys = [...new Set(events.map((e) => alertKey(e.deviceId, e.metric, e.rule)))];
  const traceContext = activeTraceContext();
  await knex.transaction(async (trx) => {
    await trx.raw(
      `SELECT count(pg_advisory_xact_lock(?, h))
         FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(?::text[]) AS k ORDER BY 1) s`,
      [advisoryClass, keys],
    );
    const active: ActiveAlertRow[] = await trx('hub.alert')
      .whereIn('alert_key', keys)
      .whereNot({ status: 'cleared' })
      .select(
        'id',
        'alert_key',
        'status',
        'severity',
        'evidence',
        'ticket_state',
        'ticket_sys_id',
        'opened_at',
        'last_seen_at',
      );
    const touched = foldAlertEvents(events, active, outcome, ticketedKeys, { replay: options.replay });
    // Each touched revision remembers the context that wrote it; without one, an older link would mislead.
    for (const a of touched) {
      const { trace: _previous, ...rest } = a.evidence;
      a.evidence = traceContext ? { ...rest, trace: traceContext } : rest;
    }
    // Updates first: a clear of an existing alert must land before a new alert of the same key is inserted.
    const updates = touched.filter((a) => a.id !== null).map(updateOf);
    if (updates.length > 0) await trx.raw(updateSql, [JSON.stringify(updates)]);
    const inserts = touched.filter((a) => a.id === null).map((a) => insertOf(trx, a));
    for (let i = 0; i < inserts.length; i += 500) await trx('hub.alert').insert(inserts.slice(i, i + 500));
    if (ticketedKeys.size > 0 && options.notify !== false) {
      const payload = JSON.stringify([...ticketedKeys]);
      await trx.raw('SELECT pg_notify(?, ?)', [
        TICKET_NOTIFY_CHANNEL,
        Buffer.byteLength(payload) <= maxNotifyBytes ? payload : '',
      ]);
    }
  });
  outcome.keys = [...ticketedKeys];
  for (const event of ['opened', 'repeated', 'escalated', 'cleared', 'suppressed', 'unsuppressed'] as const) {
    if (outcome[event] > 0) alertEventsTotal.inc({ event }, outcome[event]);
  }
  return outcome;
}

function insertOf(trx: Knex.Transaction, a: FoldedAlert): Record<string, unknown> {
  return {
    alert_key: a.key,
    device_id: a.deviceId,
    asset_id: a.assetId,
    metric_code: a.metric,
    rule: a.rule,
    severity: a.severity,
    status: a.status,
    evidence: JSON.stringify(a.evidence),
    opened_at: a.openedAt,
    escalated_at: a.escalatedAt,
    cleared_at: a.clearedAt,
    last_seen_at: a.lastSeenAt,
    repeat_count: a.repeatDelta,
    revision: 1 + a.revisionDelta,
    ticket_state: a.ticketState,
    ticket_action: a.ticketAction,
    ticket_requested_at: a.ticketState === null ? null : trx.fn.now(),
  };
}

/**
 * One statement for every existing alert the batch touched. Counters are added to the stored values, and the
 * ticket state is decided against the current row (the delivery updates it concurrently).
 */
const updateSql = `
  UPDATE hub.alert a SET
    status = v.status,
    severity = v.severity,
    evidence = v.evidence,
    escalated_at = COALESCE(v.escalated_at, a.escalated_at),
    cleared_at = COALESCE(v.cleared_at, a.cleared_at),
    last_seen_at = COALESCE(v.last_seen_at, a.last_seen_at),
    repeat_count = a.repeat_count + v.repeats,
    revision = a.revision + v.revisions,
    ticket_state = CASE v.change
      WHEN 'open' THEN 'pending'
      WHEN 'touch' THEN CASE WHEN a.ticket_state IS NULL OR a.ticket_state IN ('failed', 'sent') THEN a.ticket_state ELSE 'pending' END
      ELSE a.ticket_state END,
    ticket_action = COALESCE(v.action, a.ticket_action),
    ticket_requested_at = CASE WHEN v.change = 'open' THEN now() ELSE a.ticket_requested_at END,
    updated_at = now()
  FROM jsonb_to_recordset(?::jsonb) AS v(id bigint, status text, severity text, evidence jsonb,
    escalated_at timestamptz, cleared_at timestamptz, last_seen_at timestamptz, repeats int, revisions int,
    change text, action text)
  WHERE a.id = v.id`;

function updateOf(a: FoldedAlert): Record<string, unknown> {
  return {
    id: a.id,
    status: a.status,
    severity: a.severity,
    evidence: a.evidence,
    escalated_at: a.escalatedAt?.toISOString() ?? null,
    cleared_at: a.clearedAt?.toISOString() ?? null,
    last_seen_at: a.repeatDelta > 0 ? a.lastSeenAt.toISOString() : null,
    repeats: a.repeatDelta,
    revisions: a.revisionDelta,
    change: a.ticketChange,
    action: a.ticketAction,
  };
}

/**
 * Puts failed ticket intents back to `pending` (all of them, or those of the given alert keys), for an operator
 * who fixed the cause (credentials, mapping, a ServiceNow data policy). Returns the alert keys concerned; the
 * delivery picks them up on its next reconcile pass.
 */
export async function retryFailedTickets(knex: Knex, keys?: readonly string[]): Promise<string[]> {
  const query = knex('hub.alert').where({ ticket_state: 'failed' });
  if (keys) query.whereIn('alert_key', keys);
  const rows: { alert_key: string }[] = await query
    .update({ ticket_state: 'pending', ticket_error: null, updated_at: knex.fn.now() })
    .returning('alert_key');
  const changed = [...new Set(rows.map((r) => r.alert_key))];
  if (changed.length > 0) await knex.raw('SELECT pg_notify(?, ?)', [TICKET_NOTIFY_CHANNEL, '']);
  return changed;
}
