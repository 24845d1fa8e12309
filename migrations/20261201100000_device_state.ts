import type { Knex } from 'knex';

// The hub's view of each device's operational state, derived from telemetry (docs/architecture.md, "Device
// state and the outbox"). A change of status, firmware or health is announced through hub.outbox in the same
// transaction; the ServiceNow CMDB sink reads this table (with dw.dim_device) to keep the device CIs current.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE hub.device_state (
      device_id text PRIMARY KEY,                 -- MDM id (dw.dim_device.device_nk)
      status text NOT NULL CHECK (status IN ('online', 'offline')),
      status_changed_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,          -- newest reading time received (event time)
      last_received_at timestamptz NOT NULL,      -- when the hub received it (processing time)
      firmware_version text,                      -- as MDM reports it (dw.dim_device), announced on change
      battery_pct double precision,               -- latest 'battery' reading, when the device reports one
      battery_at timestamptz,
      health text CHECK (health IN ('ok', 'degraded', 'failed')),
      updated_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX device_state_updated ON hub.device_state (updated_at);
    CREATE INDEX device_state_online_seen ON hub.device_state (last_received_at) WHERE status = 'online';
    COMMENT ON TABLE hub.device_state IS 'Operational state per device from telemetry; changes announced in hub.outbox.';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE hub.device_state');
}
