import type { Knex } from 'knex';

// Ticket delivery state on hub.alert: a revision counter per alert, what ServiceNow has
// acknowledged, the write in flight whose outcome is not known yet, and a per-key lease so two workers never
// work the same alert key at once (a stalled bullmq job or a job re-enqueued after a Redis flush can run
// beside the original). The alert row is the source of truth, bullmq only delivers it
// (docs/servicenow-tickets.md).

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE hub.alert
      -- Bumped by every change that ServiceNow must hear about (open, repeat, escalate, clear, unsuppress).
      ADD COLUMN revision integer NOT NULL DEFAULT 1,
      -- Highest revision ServiceNow acknowledged; the intent is delivered when it equals revision.
      ADD COLUMN ticket_revision integer NOT NULL DEFAULT 0,
      -- Raises of the same condition after it opened, and how many of them a work note already reported.
      ADD COLUMN repeat_count integer NOT NULL DEFAULT 0,
      ADD COLUMN ticket_repeats_sent integer NOT NULL DEFAULT 0,
      ADD COLUMN ticket_escalated boolean NOT NULL DEFAULT false,
      ADD COLUMN last_seen_at timestamptz,
      ADD COLUMN ticket_correlation_id text,
      -- The write sent but not confirmed ({action, revision, marker, ...}); the next attempt checks ServiceNow
      -- for it (correlation_id search, journal marker) before writing again, so a lost answer duplicates nothing.
      ADD COLUMN ticket_inflight jsonb,
      ADD COLUMN ticket_requested_at timestamptz,      -- when the incident was first asked for
      ADD COLUMN ticket_opened_at timestamptz,         -- when ServiceNow confirmed it (created or found)
      ADD COLUMN ticket_acknowledged_at timestamptz,
      ADD CONSTRAINT alert_ticket_revision CHECK (ticket_revision <= revision);
    CREATE INDEX alert_ticket_undelivered ON hub.alert (alert_key, id) WHERE ticket_state IN ('pending', 'sent');

    -- One worker per alert key at a time; a lease expires, so a crashed worker never blocks a key for long.
    CREATE TABLE hub.alert_ticket_lease (
      alert_key text PRIMARY KEY,
      owner text NOT NULL,
      expires_at timestamptz NOT NULL);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE hub.alert_ticket_lease;
    DROP INDEX hub.alert_ticket_undelivered;
    ALTER TABLE hub.alert
      DROP CONSTRAINT alert_ticket_revision,
      DROP COLUMN revision, DROP COLUMN ticket_revision, DROP COLUMN repeat_count,
      DROP COLUMN ticket_repeats_sent, DROP COLUMN ticket_escalated, DROP COLUMN last_seen_at,
      DROP COLUMN ticket_correlation_id, DROP COLUMN ticket_inflight, DROP COLUMN ticket_requested_at,
      DROP COLUMN ticket_opened_at, DROP COLUMN ticket_acknowledged_at;
  `);
}
