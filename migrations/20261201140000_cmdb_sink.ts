import type { Knex } from 'knex';

// The ServiceNow CMDB sink's bookkeeping (docs/servicenow-cmdb.md): per device, the hash of the CI values last
// accepted by IRE, the CI's sys_id, and the error and back-off of a failed attempt. A lease lets several hub
// processes share the work without sending one device twice at once.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE hub.cmdb_sink_state (
      device_id text PRIMARY KEY,                 -- MDM id (dw.dim_device.device_nk)
      payload_hash text,                          -- md5 of the CI values IRE last accepted; NULL: never synced
      ci_sys_id text,                             -- the CI IRE identified or created
      synced_at timestamptz,
      attempts integer NOT NULL DEFAULT 0,        -- failed attempts since the last success
      last_error text,                            -- what ServiceNow (or the hub) said, as a person reads it
      attempted_hash text,                        -- payload of the failed attempt: a different one is sent at once
      next_attempt_at timestamptz,                -- back-off after a failure
      lease_owner text,
      lease_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX cmdb_sink_state_failed ON hub.cmdb_sink_state (next_attempt_at) WHERE last_error IS NOT NULL;
    COMMENT ON TABLE hub.cmdb_sink_state IS 'ServiceNow CMDB sink: last CI payload synced per device, errors and back-off.';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE hub.cmdb_sink_state');
}
