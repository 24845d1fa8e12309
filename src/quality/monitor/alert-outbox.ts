import type { Knex } from '../../db/index.ts';
import type { AlertEvent, RaiseOutcome } from '../alert-events.ts';
import { raiseAlerts } from '../raise-alerts.ts';

/** Advisory lock key of the drain ('DQAO'): one drainer at a time keeps the events in their order. */
const drainLock = 0x4451414f;

/**
 * Moves the alert events the dq events produced (hub.dq_alert_outbox, written with them) into hub.alert through
 * raiseAlerts, oldest first, and deletes them in the same transaction. Safe to call from any number of
 * processes: one drains while the others return at once. Returns what was written, or null when another
 * process holds the drain; `drained` counts the outbox rows handled.
 */
export async function drainAlertOutbox(
  knex: Knex,
  limit = 1000,
): Promise<{ drained: number; outcome: RaiseOutcome } | null> {
  return knex.transaction(async (trx) => {
    const locked = await trx.raw<{ rows: { ok: boolean }[] }>('SELECT pg_try_advisory_xact_lock(?) AS ok', [
      drainLock,
    ]);
    if (!locked.rows[0]?.ok) return null;
    const rows: { id: number; event: AlertEvent & { at?: string | Date } }[] = await trx(
      'hub.dq_alert_outbox',
    )
      .orderBy('id')
      .limit(limit)
      .select('id', 'event');
    const events = rows.map(({ event }) => ({ ...event, at: event.at ? new Date(event.at) : undefined }));
    const outcome = await raiseAlerts(trx, events as AlertEvent[]);
    if (rows.length > 0)
      await trx('hub.dq_alert_outbox')
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .delete();
    return { drained: rows.length, outcome };
  });
}
