import type { Knex } from 'knex';

// Every reading accounted for (docs/architecture.md, "Accounting"): lineage carries message and reading counts
// that reconcile, and a dead letter can name the one reading of a message it stands for. The reference version
// is the enrichment snapshot's cheap change check: any committed change to a dimension it reads bumps it.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE hub.dead_letter
      -- Index of the reading (exploded element) within its message; NULL when the whole message is the letter.
      ADD COLUMN reading_index integer;

    ALTER TABLE hub.lineage
      ADD COLUMN messages_in integer NOT NULL DEFAULT 0,
      ADD COLUMN messages_dead_letter integer NOT NULL DEFAULT 0;
    COMMENT ON COLUMN hub.lineage.rows_in IS 'Readings of the batch''s messages that were not dead-lettered whole: rows_out + rows_duplicate + rows_dead_letter.';
    COMMENT ON COLUMN hub.lineage.rows_dead_letter IS 'Readings dropped, each a dead letter with its reading_index.';
    COMMENT ON COLUMN hub.lineage.messages_dead_letter IS 'Messages dead-lettered whole (reading_index NULL); the others loaded.';
    -- The ledger as a constraint on finished batches. NOT VALID: batches recorded before these columns existed
    -- counted messages in rows_in and are not checked.
    ALTER TABLE hub.lineage ADD CONSTRAINT lineage_readings_reconcile
      CHECK (finished_at IS NULL OR rows_in = rows_out + rows_duplicate + rows_dead_letter) NOT VALID;
    ALTER TABLE hub.lineage ADD CONSTRAINT lineage_messages_reconcile
      CHECK (messages_dead_letter <= messages_in) NOT VALID;

    CREATE TABLE hub.reference_version (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      version bigint NOT NULL DEFAULT 0,
      changed_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO hub.reference_version DEFAULT VALUES;

    -- Statement-level, so a bulk change costs one bump; the row lock it takes is held to commit, which orders
    -- the bumps like the commits and makes a reader that sees the new version also see the change.
    CREATE FUNCTION hub.bump_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE hub.reference_version SET version = version + 1, changed_at = now();
      PERFORM pg_notify('hub_reference_changed', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER dim_device_reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dw.dim_device
      FOR EACH STATEMENT EXECUTE FUNCTION hub.bump_reference_version();
    CREATE TRIGGER dim_asset_reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dw.dim_asset
      FOR EACH STATEMENT EXECUTE FUNCTION hub.bump_reference_version();
    CREATE TRIGGER dim_metric_reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dw.dim_metric
      FOR EACH STATEMENT EXECUTE FUNCTION hub.bump_reference_version();
    CREATE TRIGGER maintenance_reference_version
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dw.fact_maintenance_event
      FOR EACH STATEMENT EXECUTE FUNCTION hub.bump_reference_version();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER maintenance_reference_version ON dw.fact_maintenance_event;
    DROP TRIGGER dim_metric_reference_version ON dw.dim_metric;
    DROP TRIGGER dim_asset_reference_version ON dw.dim_asset;
    DROP TRIGGER dim_device_reference_version ON dw.dim_device;
    DROP FUNCTION hub.bump_reference_version();
    DROP TABLE hub.reference_version;
    ALTER TABLE hub.lineage DROP CONSTRAINT lineage_messages_reconcile, DROP CONSTRAINT lineage_readings_reconcile,
      DROP COLUMN messages_dead_letter, DROP COLUMN messages_in;
    ALTER TABLE hub.dead_letter DROP COLUMN reading_index;
  `);
}
