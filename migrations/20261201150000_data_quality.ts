import type { Knex } from 'knex';

// Data-quality monitoring in the pipeline (docs/data-quality.md, "In the pipeline" and "Events and alerts").
// The detector state of each series is written in the ingest batch's transaction, so a rollback rolls it back
// with the readings and a restarted (or another) hub process continues where the last commit stopped.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- One row per device (natural key, so a new SCD2 version continues the series) × metric: the streaming
    -- detectors' state, the event trackers (hysteresis counters, open events) and the hourly drift detector's
    -- state. Every write takes a new version from a sequence (never reused, even by a rolled-back write): a
    -- process caches rows by version, and a write conditional on it tells that another process wrote meanwhile.
    CREATE SEQUENCE hub.dq_series_version;
    CREATE TABLE hub.dq_series_state (
      device_nk text NOT NULL,                    -- dw.dim_device.device_nk
      metric_sk smallint NOT NULL,
      version bigint NOT NULL DEFAULT nextval('hub.dq_series_version'),
      last_ts timestamptz,                        -- newest reading time observed (the gap sweep reads it)
      monitor_state jsonb NOT NULL DEFAULT '{}',  -- SeriesMonitor.state()
      tracker_state jsonb NOT NULL DEFAULT '{}',  -- per check: consecutive bad/good, open event, excerpt
      drift_state jsonb,                          -- DriftMonitor.state()
      drift_hour timestamptz,                     -- newest hour the drift detector has seen
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (device_nk, metric_sk));
    CREATE INDEX dq_series_state_last_ts ON hub.dq_series_state (last_ts);
    COMMENT ON TABLE hub.dq_series_state IS
      'Data-quality detector state per device and metric, written in the ingest transaction (docs/data-quality.md).';

    -- Alert events (raise / clear) produced with dq events, in the same transaction; drained in id order into
    -- hub.alert by raiseAlerts, so a rolled-back batch never raises an alert.
    CREATE TABLE hub.dq_alert_outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now());

    -- Calibration maintenance events whose after-calibration step was evaluated (once each).
    CREATE TABLE hub.dq_calibration_step_done (
      maintenance_event_id bigint PRIMARY KEY,
      evaluated_at timestamptz NOT NULL DEFAULT now());
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE hub.dq_calibration_step_done, hub.dq_alert_outbox, hub.dq_series_state;
    DROP SEQUENCE hub.dq_series_version;
  `);
}
