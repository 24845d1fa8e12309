import type { Knex } from '../db/index.ts';

/** The write sent to ServiceNow whose answer is not known yet (hub.alert.ticket_inflight). */
export interface InflightWrite {
  action: 'create' | 'update' | 'escalate' | 'resolve' | 'event';
  /** The alert revision the write brings ServiceNow to. */
  revision: number;
  /** Text the write's work note carries, to find it in the incident's work notes. */
  marker: string;
  /** repeat_count reported once the write lands. */
  repeats: number;
  escalated: boolean;
  resolved: boolean;
}

/** A hub.alert row as the ticket delivery reads it, with the asset context the outbound mapping shows. */
export interface AlertTicketRow {
  id: number;
  alert_key: string;
  device_id: string | null;
  asset_id: string | null;
  metric_code: string | null;
  rule: string;
  severity: 'info' | 'warn' | 'fail';
  status: 'open' | 'escalated' | 'cleared' | 'suppressed';
  evidence: Record<string, unknown>;
  opened_at: Date;
  escalated_at: Date | null;
  cleared_at: Date | null;
  last_seen_at: Date | null;
  ticket_state: 'pending' | 'sent' | 'acknowledged' | 'failed' | null;
  ticket_number: string | null;
  ticket_sys_id: string | null;
  ticket_attempts: number;
  revision: number;
  ticket_revision: number;
  repeat_count: number;
  ticket_repeats_sent: number;
  ticket_escalated: boolean;
  ticket_inflight: InflightWrite | null;
  ticket_opened_at: Date | null;
  asset_nk: string | null;
  asset_name: string | null;
  site_name: string | null;
  line_name: string | null;
  criticality: string | null;
  /** dw.dim_metric.canonical_unit of the alert's metric: the unit readings are evaluated in. */
  metric_unit: string | null;
  /** The device has a current dw.dim_device row from MDM (an inferred placeholder does not count). */
  device_in_mdm: boolean;
}

const undelivered = ['pending', 'sent'];

/**
 * hub.alert as the ticket delivery's source of truth (docs/servicenow-tickets.md): which intents are
 * undelivered, the per-key lease, and the state transitions pending → sent → acknowledged | failed. Every
 * update is guarded so that a late or repeated acknowledgement never moves an alert backwards.
 */
export class TicketStore {
  readonly #knex: Knex;

  constructor(knex: Knex) {
    this.#knex = knex;
  }

  /** Alert keys with an intent not acknowledged yet (pending or sent), oldest first. */
  async undeliveredKeys(): Promise<string[]> {
    const rows: { alert_key: string }[] = await this.#knex('hub.alert')
      .whereIn('ticket_state', undelivered)
      .groupBy('alert_key')
      .orderByRaw('min(id)')
      .select('alert_key');
    return rows.map((r) => r.alert_key);
  }

  async hasUndelivered(key: string): Promise<boolean> {
    const row = await this.#knex('hub.alert')
      .where({ alert_key: key })
      .whereIn('ticket_state', undelivered)
      .first('id');
    return row !== undefined;
  }

  /** Takes the key's lease when free, expired or already ours; false when another worker holds it. */
  async acquireLease(key: string, owner: string, ms: number): Promise<boolean> {
    const { rows } = await this.#knex.raw<{ rows: unknown[] }>(
      `INSERT INTO hub.alert_ticket_lease (alert_key, owner, expires_at)
       VALUES (?, ?, clock_timestamp() + ? * interval '1 millisecond')
       ON CONFLICT (alert_key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
        WHERE hub.alert_ticket_lease.expires_at < clock_timestamp() OR hub.alert_ticket_lease.owner = EXCLUDED.owner
       RETURNING owner`,
      [key, owner, ms],
    );
    return rows.length === 1;
  }

  /** Extends our lease; false when it expired and another worker took it. */
  async renewLease(key: string, owner: string, ms: number): Promise<boolean> {
    const n = await this.#knex('hub.alert_ticket_lease')
      .where({ alert_key: key, owner })
      .update({ expires_at: this.#knex.raw("clock_timestamp() + ? * interval '1 millisecond'", [ms]) });
    return n === 1;
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    await this.#knex('hub.alert_ticket_lease').where({ alert_key: key, owner }).delete();
  }

  /** The key's alerts with undelivered intents, oldest first (a clear of an old alert before a new one). */
  async rowsToSync(key: string): Promise<AlertTicketRow[]> {
    return this.#select().where('a.alert_key', key).whereIn('a.ticket_state', undelivered).orderBy('a.id');
  }

  async row(id: number): Promise<AlertTicketRow> {
    const row = await this.#select().where('a.id', id).first();
    if (!row) throw new Error(`hub.alert ${id} disappeared`);
    return row;
  }

  #select(): Knex.QueryBuilder {
    return this.#knex({ a: 'hub.alert' })
      .leftJoin({ d: 'dw.dim_device' }, (j) =>
        j.on('d.device_nk', 'a.device_id').andOn(this.#knex.raw('d.is_current')),
      )
      .leftJoin({ s: 'dw.dim_asset' }, (j) =>
        j
          .on('s.asset_nk', this.#knex.raw('coalesce(a.asset_id, d.installed_asset_nk)'))
          .andOn(this.#knex.raw('s.is_current')),
      )
      .leftJoin({ m: 'dw.dim_metric' }, 'm.metric_code', 'a.metric_code')
      .select(
        'a.*',
        's.asset_nk',
        's.asset_name',
        's.site_name',
        's.line_name',
        's.criticality',
        { metric_unit: 'm.canonical_unit' },
        this.#knex.raw('coalesce(d.device_sk IS NOT NULL AND NOT d.is_inferred, false) AS device_in_mdm'),
      );
  }

  /** Records a write about to be sent: state `sent`, one more attempt. */
  async markInflight(id: number, inflight: InflightWrite, correlationId: string): Promise<void> {
    await this.#knex('hub.alert')
      .where({ id })
      .update({
        ticket_inflight: JSON.stringify(inflight),
        ticket_state: 'sent',
        ticket_action: inflight.action === 'event' ? this.#knex.raw('ticket_action') : inflight.action,
        ticket_correlation_id: correlationId,
        ticket_attempts: this.#knex.raw('ticket_attempts + 1'),
        updated_at: this.#knex.fn.now(),
      });
  }

  /**
   * ServiceNow confirmed a write covering `done.revision`: the intent is acknowledged, or pending again if the
   * alert moved on meanwhile. `incident` records the incident it went to; `opened` marks the first
   * confirmation. Returns the alert → incident latency in seconds when this confirmation opened the ticket.
   */
  async acknowledge(
    id: number,
    done: Pick<InflightWrite, 'revision' | 'repeats' | 'escalated'>,
    incident: { sysId: string; number: string } | null,
    opened: boolean,
  ): Promise<{ openedLatencySeconds: number | null }> {
    const { rows } = await this.#knex.raw<{ rows: { latency: number | null }[] }>(
      `WITH prev AS (SELECT id, ticket_opened_at FROM hub.alert WHERE id = ? FOR UPDATE)
       UPDATE hub.alert a SET
         ticket_revision = GREATEST(a.ticket_revision, ?),
         ticket_repeats_sent = GREATEST(a.ticket_repeats_sent, ?),
         ticket_escalated = a.ticket_escalated OR ?,
         ticket_sys_id = COALESCE(?, a.ticket_sys_id),
         ticket_number = COALESCE(?, a.ticket_number),
         ticket_opened_at = CASE WHEN ? THEN COALESCE(a.ticket_opened_at, clock_timestamp()) ELSE a.ticket_opened_at END,
         ticket_acknowledged_at = clock_timestamp(),
         ticket_inflight = NULL,
         ticket_error = NULL,
         ticket_state = CASE WHEN a.revision <= GREATEST(a.ticket_revision, ?) THEN 'acknowledged' ELSE 'pending' END,
         updated_at = now()
       FROM prev WHERE a.id = prev.id
       RETURNING CASE WHEN prev.ticket_opened_at IS NULL AND a.ticket_opened_at IS NOT NULL
                      THEN extract(epoch FROM a.ticket_opened_at - coalesce(a.ticket_requested_at, a.opened_at))::float8 END AS latency`,
      [
        id,
        done.revision,
        done.repeats,
        done.escalated,
        incident?.sysId ?? null,
        incident?.number ?? null,
        opened,
        done.revision,
      ],
    );
    return { openedLatencySeconds: rows[0]?.latency ?? null };
  }

  /** Attaches an incident found by correlation_id (created by an earlier attempt or already open). */
  async adopt(id: number, incident: { sysId: string; number: string }): Promise<void> {
    await this.#knex('hub.alert')
      .where({ id })
      .update({
        ticket_sys_id: incident.sysId,
        ticket_number: incident.number,
        ticket_opened_at: this.#knex.raw('COALESCE(ticket_opened_at, clock_timestamp())'),
        updated_at: this.#knex.fn.now(),
      });
  }

  /** The incident no longer exists (404): forget it, so the next pass finds or creates one. */
  async forgetIncident(id: number): Promise<void> {
    await this.#knex('hub.alert').where({ id }).update({
      ticket_sys_id: null,
      ticket_number: null,
      ticket_escalated: false,
      ticket_inflight: null,
      updated_at: this.#knex.fn.now(),
    });
  }

  /** The in-flight write did not land: send again from the current state. */
  async clearInflight(id: number): Promise<void> {
    await this.#knex('hub.alert')
      .where({ id })
      .update({
        ticket_inflight: null,
        ticket_state: this.#knex.raw("CASE WHEN ticket_state = 'sent' THEN 'pending' ELSE ticket_state END"),
        updated_at: this.#knex.fn.now(),
      });
  }

  /** Remembers why the last attempt failed; the intent stays undelivered and will be retried. */
  async recordError(id: number, message: string): Promise<void> {
    await this.#knex('hub.alert')
      .where({ id })
      .update({ ticket_error: message.slice(0, 2000), updated_at: this.#knex.fn.now() });
  }

  /** A permanent failure: the intent is `failed` with the reason, and no longer retried by the reconciler. */
  async markFailed(id: number, message: string): Promise<void> {
    await this.#knex('hub.alert')
      .where({ id })
      .update({
        ticket_state: 'failed',
        ticket_error: message.slice(0, 2000),
        updated_at: this.#knex.fn.now(),
      });
  }

  /** Ticket intents by state (NULL, alerts without a ticket, left out). */
  async intentCounts(): Promise<Record<string, number>> {
    const rows: { ticket_state: string; n: number }[] = await this.#knex('hub.alert')
      .whereNotNull('ticket_state')
      .groupBy('ticket_state')
      .select('ticket_state', this.#knex.raw('count(*)::int AS n'));
    return Object.fromEntries(rows.map((r) => [r.ticket_state, r.n]));
  }
}
