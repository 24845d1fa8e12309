import type { Knex } from '../db/index.ts';

/** One alert with its ticket, as `iot-hub tickets list` and `iot-hub alerts list` show it. */
export interface AlertTicketSummary {
  alertId: number;
  alertKey: string;
  deviceId: string | null;
  rule: string;
  severity: string;
  /** open, escalated, cleared or suppressed. */
  status: string;
  /** pending, sent, acknowledged or failed; null when the alert never asked for a ticket (suppressed). */
  ticketState: string | null;
  /** The ServiceNow incident number (INC…), once one exists. */
  incident: string | null;
  correlationId: string | null;
  attempts: number;
  /** Why the last attempt failed (kept while the intent is failed or still being retried). */
  lastError: string | null;
  openedAt: string;
  updatedAt: string;
}

export interface ListOptions {
  /** Newest first; at most this many. @defaultValue 50 */
  limit?: number;
}

/** Ticket intents, newest first; `failed` keeps only those that failed for good (retry with retryFailedTickets). */
export async function listTickets(
  knex: Knex,
  options: ListOptions & { failed?: boolean } = {},
): Promise<AlertTicketSummary[]> {
  const query = knex('hub.alert').whereNotNull('ticket_state');
  if (options.failed) query.where({ ticket_state: 'failed' });
  return summaries(query, options.limit);
}

/** Alerts, newest first; `open` leaves out cleared ones. */
export async function listAlerts(
  knex: Knex,
  options: ListOptions & { open?: boolean } = {},
): Promise<AlertTicketSummary[]> {
  const query = knex('hub.alert');
  if (options.open) query.whereNot({ status: 'cleared' });
  return summaries(query, options.limit);
}

async function summaries(query: Knex.QueryBuilder, limit = 50): Promise<AlertTicketSummary[]> {
  const rows: Array<{
    id: number | string;
    alert_key: string;
    device_id: string | null;
    rule: string;
    severity: string;
    status: string;
    ticket_state: string | null;
    ticket_number: string | null;
    ticket_correlation_id: string | null;
    ticket_attempts: number;
    ticket_error: string | null;
    opened_at: Date;
    updated_at: Date;
  }> = await query
    .orderBy('id', 'desc')
    .limit(limit)
    .select(
      'id',
      'alert_key',
      'device_id',
      'rule',
      'severity',
      'status',
      'ticket_state',
      'ticket_number',
      'ticket_correlation_id',
      'ticket_attempts',
      'ticket_error',
      'opened_at',
      'updated_at',
    );
  return rows.map((r) => ({
    alertId: Number(r.id),
    alertKey: r.alert_key,
    deviceId: r.device_id,
    rule: r.rule,
    severity: r.severity,
    status: r.status,
    ticketState: r.ticket_state,
    incident: r.ticket_number,
    correlationId: r.ticket_correlation_id,
    attempts: r.ticket_attempts,
    lastError: r.ticket_error,
    openedAt: r.opened_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  }));
}
