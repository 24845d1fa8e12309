import type { Knex } from 'knex';

// The sample CMMS (maintenance management) source system that CDC reads: maintenance and calibration work
// orders. Like the sample MDM (migrations/mdm/), it is a database of its own (`cmms`), owned by the CDC role, so
// these migrations run as hub_cdc: a Debezium publication in `filtered` mode may only list tables its role owns
// (connectors/debezium/cmms-source.json lists public.work_order).
//
// REPLICA IDENTITY FULL makes pgoutput send the whole old row on DELETE, so a deleted work order's `before`
// image still satisfies mappings/contracts/cmms-work-order-v1.schema.json and can be applied (docs/architecture.md,
// "CMMS work orders").

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- One work order: preventive (PM), corrective (CM), calibration (CAL) or inspection (INSP) work on a device,
    -- an asset, or both. Statuses move OPEN → IN_PROGRESS → DONE, or to CANCELLED. Types and statuses are the
    -- CMMS's own code lists, unchecked here: a value the mapping does not know becomes a dead letter in the hub.
    CREATE TABLE public.work_order (
      wo_number text PRIMARY KEY,
      device_id text,                           -- MDM device id, when the work was done on one device
      asset_id text,                            -- MDM / CMDB asset id
      wo_type text NOT NULL,
      status text NOT NULL DEFAULT 'OPEN',
      opened_at timestamptz NOT NULL,           -- the start of the work, as the hub reads it
      completed_at timestamptz,
      summary text,
      technician text,
      downtime_min double precision,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX work_order_device ON public.work_order (device_id);
    ALTER TABLE public.work_order REPLICA IDENTITY FULL;
    COMMENT ON TABLE public.work_order IS 'Maintenance work order; CDC source of dw.fact_maintenance_event.';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE public.work_order');
}
