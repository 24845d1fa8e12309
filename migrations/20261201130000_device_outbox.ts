import type { Knex } from 'knex';

// Device state events through the outbox (docs/architecture.md, "Device state and the outbox").
//
// event_seq counts the events announced per device, so a consumer of device.state can check their order.
// hub_outbox_pub is the publication connectors/debezium/outbox.json reads: a filtered publication may only list
// tables its creator owns, and the CDC role (hub_cdc) does not own hub.outbox, so the migration (run as the
// tables' owner) creates it and the connector does not autocreate one. The grants let hub_cdc read the table's
// schema; they are skipped where the role does not exist (a database without the local stack).

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE hub.device_state ADD COLUMN event_seq bigint NOT NULL DEFAULT 0;
    COMMENT ON COLUMN hub.device_state.event_seq IS 'Sequence number of the last event announced for the device in hub.outbox.';
    CREATE PUBLICATION hub_outbox_pub FOR TABLE hub.outbox;
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hub_cdc') THEN
        GRANT USAGE ON SCHEMA hub TO hub_cdc;
        GRANT SELECT ON hub.outbox TO hub_cdc;
      END IF;
    END $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hub_cdc') THEN
        REVOKE SELECT ON hub.outbox FROM hub_cdc;
      END IF;
    END $$;
    DROP PUBLICATION IF EXISTS hub_outbox_pub;
    ALTER TABLE hub.device_state DROP COLUMN event_seq;
  `);
}
