import type { Knex } from 'knex';

// ServiceNow CMDB configuration items as an SCD2 dimension, fed by the incremental poll (src/cdc/cmdb-poll.ts;
// docs/architecture.md, "ServiceNow CMDB as a source"). Same conventions as dw.dim_device ("Warehouse schema").
// The natural key column is cmdb_ci_nk (the CI's sys_id): the SCD2 merge derives the surrogate key's name from
// it (cmdb_ci_nk → cmdb_ci_sk).

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE dw.dim_cmdb_ci (
      cmdb_ci_sk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      cmdb_ci_nk text NOT NULL,                 -- the CI's sys_id
      ci_class text,                            -- sys_class_name, e.g. cmdb_ci_iot
      ci_name text,
      device_nk text,                           -- the MDM device id the CI stands for (dw.dim_device.device_nk)
      serial_number text, asset_tag text,
      firmware_version text, model text, manufacturer text,
      operational_status text,                  -- operational, non_operational, repair_in_progress, ready, retired
      install_status text,                      -- installed, in_maintenance, in_stock, retired, absent
      location_nk text, location_name text,     -- cmn_location sys_id and name
      updated_by text,                          -- sys_updated_by of the change
      valid_from timestamptz NOT NULL,
      valid_to timestamptz NOT NULL DEFAULT 'infinity',
      is_current boolean NOT NULL DEFAULT true,
      is_inferred boolean NOT NULL DEFAULT false,
      row_hash bytea NOT NULL,
      source_system text NOT NULL,
      source_updated_at timestamptz,
      source_commit_lsn bigint,                 -- poll position: sys_updated_on (epoch ms) …
      source_lsn bigint,                        -- … then sys_mod_count, for updates within one second
      CHECK (valid_from < valid_to),
      EXCLUDE USING gist (cmdb_ci_nk WITH =, tstzrange(valid_from, valid_to) WITH &&));
    CREATE UNIQUE INDEX dim_cmdb_ci_one_current ON dw.dim_cmdb_ci (cmdb_ci_nk) WHERE is_current;
    CREATE INDEX dim_cmdb_ci_device ON dw.dim_cmdb_ci (device_nk) WHERE is_current;
    CREATE INDEX dim_cmdb_ci_serial ON dw.dim_cmdb_ci (serial_number) WHERE is_current;
    COMMENT ON TABLE dw.dim_cmdb_ci IS 'ServiceNow CMDB CI, SCD type 2; cmdb_ci_sk -1 / cmdb_ci_nk ''#unknown'' is the unknown member.';

    INSERT INTO dw.dim_cmdb_ci (cmdb_ci_sk, cmdb_ci_nk, ci_name, valid_from, row_hash, source_system)
      OVERRIDING SYSTEM VALUE VALUES (-1, '#unknown', 'Unknown', '-infinity', '\\x00', 'hub');

    -- One row per polled ServiceNow table: the newest sys_updated_on applied, committed with the rows.
    CREATE TABLE hub.cmdb_poll_state (
      table_name text PRIMARY KEY,
      mapping_id text NOT NULL,
      watermark timestamptz,                    -- NULL until the first page committed: a full load
      last_polled_at timestamptz,               -- the last poll that completed
      last_error text,                          -- the last poll's error; NULL after a poll that completed
      last_error_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now());
    COMMENT ON TABLE hub.cmdb_poll_state IS 'Watermark of the ServiceNow CMDB poll per table (src/cdc/cmdb-poll.ts).';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE hub.cmdb_poll_state; DROP TABLE dw.dim_cmdb_ci');
}
