import type { Knex } from 'knex';

// Hub operational state (schema hub): consumer offsets, dead letters, alerts with their ticket intent,
// the Debezium outbox, the GraphQL audit log and load lineage. Closed status vocabularies (dead letter status;
// alert severity, status and ticket state) are CHECK constraints; open-ended ones (stage, rule, outcome) are
// plain text.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE SCHEMA hub;

    -- Next offset to apply per consumer group and partition, committed in the same transaction as the
    -- batch's rows; replayed messages below it are filtered (docs/architecture.md, "Effectively once").
    CREATE TABLE hub.consumer_offsets (
      consumer_group text NOT NULL,
      topic text NOT NULL,
      partition integer NOT NULL,
      next_offset bigint NOT NULL CHECK (next_offset >= 0),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, topic, partition));

    -- Every record that failed validation, mapping or loading, with enough to find, explain and replay it.
    CREATE TABLE hub.dead_letter (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      created_at timestamptz NOT NULL DEFAULT now(),
      stage text NOT NULL,                      -- validate | map | enrich | load | cdc | …
      source_topic text,
      source_partition integer,
      source_offset bigint,
      message_key bytea,
      headers jsonb NOT NULL DEFAULT '{}',
      payload bytea,                            -- raw bytes as received; undecodable input is a common cause
      mapping_id text,
      mapping_version integer,
      error_code text NOT NULL,
      error_message text NOT NULL,
      error_location text,                      -- file:line:col when a mapping is at fault
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replayed', 'discarded')),
      replayed_at timestamptz,
      attempts integer NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX dead_letter_status ON hub.dead_letter (status, created_at);
    CREATE INDEX dead_letter_source ON hub.dead_letter (source_topic, source_partition, source_offset);

    -- Durable alert state with the ServiceNow ticket intent; bullmq only delivers it and a reconciler
    -- re-enqueues intents after a Redis loss (docs/servicenow-tickets.md).
    CREATE TABLE hub.alert (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      alert_key text NOT NULL,                  -- e.g. device + rule; unique while the alert is not cleared
      device_id text,
      asset_id text,
      metric_code text,
      rule text NOT NULL,                       -- detector check or alert rule name
      severity text NOT NULL CHECK (severity IN ('info', 'warn', 'fail')),
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'escalated', 'cleared', 'suppressed')),
      evidence jsonb NOT NULL DEFAULT '{}',
      dq_event_id bigint,                       -- dw.fact_dq_event, no FK: facts may be archived independently
      opened_at timestamptz NOT NULL DEFAULT now(),
      escalated_at timestamptz,
      cleared_at timestamptz,
      ticket_state text CHECK (ticket_state IN ('pending', 'sent', 'acknowledged', 'failed')),  -- NULL: no ticket
      ticket_action text CHECK (ticket_action IN ('create', 'update', 'escalate', 'resolve')),
      ticket_number text,                       -- ServiceNow INC number
      ticket_sys_id text,
      ticket_error text,
      ticket_attempts integer NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (status <> 'cleared' OR cleared_at IS NOT NULL),
      CHECK (status <> 'escalated' OR escalated_at IS NOT NULL));
    CREATE UNIQUE INDEX alert_one_active_per_key ON hub.alert (alert_key) WHERE status <> 'cleared';
    CREATE INDEX alert_ticket_pending ON hub.alert (updated_at) WHERE ticket_state IN ('pending', 'failed');
    CREATE INDEX alert_device ON hub.alert (device_id, opened_at);

    -- Shaped for Debezium's Outbox Event Router SMT (default column names); written in the same transaction
    -- as the state change it announces.
    CREATE TABLE hub.outbox (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      aggregatetype text NOT NULL,              -- routes to the topic, e.g. device → device.state
      aggregateid text NOT NULL,                -- becomes the Kafka message key
      type text NOT NULL,                       -- event type
      payload jsonb,
      created_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX outbox_created ON hub.outbox (created_at);

    -- One row per governed GraphQL operation.
    CREATE TABLE hub.audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      who text NOT NULL,
      role text NOT NULL,
      operation text,                           -- operation name
      query_hash text NOT NULL,                 -- sha256 of the document
      variables jsonb,                          -- after masking
      fields_touched text[] NOT NULL DEFAULT '{}',
      row_count integer,
      duration_ms double precision,
      outcome text NOT NULL);                   -- ok | denied | error
    CREATE INDEX audit_log_at ON hub.audit_log (at);
    CREATE INDEX audit_log_who ON hub.audit_log (who, at);

    -- One row per load batch or run; batch_id is stamped on the rows it loaded (fact_sensor_reading.batch_id).
    CREATE TABLE hub.lineage (
      batch_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id text,                              -- groups batches of one replay, backfill or consumer run
      source text NOT NULL,                     -- e.g. kafka topic, CDC connector, file
      mapping_id text,
      mapping_version integer,
      target_table text NOT NULL,
      rows_in integer NOT NULL DEFAULT 0,
      rows_out integer NOT NULL DEFAULT 0,
      rows_duplicate integer NOT NULL DEFAULT 0,
      rows_dead_letter integer NOT NULL DEFAULT 0,
      details jsonb NOT NULL DEFAULT '{}',      -- e.g. offset ranges per partition
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      CHECK (finished_at IS NULL OR finished_at >= started_at));
    CREATE INDEX lineage_started ON hub.lineage (started_at);
    CREATE INDEX lineage_mapping ON hub.lineage (mapping_id, mapping_version);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP SCHEMA hub CASCADE');
}
