import type { Knex } from 'knex';

// The sample MDM (master data) source system that CDC reads: the asset hierarchy and the device
// register. It is a separate database (`mdm`), owned by the CDC role, so these migrations run as hub_cdc: a
// Debezium publication in `filtered` mode may only list tables its role owns
// (connectors/debezium/mdm-source.json lists public.device and public.asset).
//
// REPLICA IDENTITY FULL makes pgoutput send the whole old row on UPDATE and DELETE, so Debezium's `before`
// image is complete and the SCD2 merge can tell what changed (https://debezium.io/documentation/reference/
// stable/connectors/postgresql.html#postgresql-replica-identity).

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- One node of the plant hierarchy: site > area > line > asset (machine). Ids are stable tags, never names.
    CREATE TABLE public.asset (
      asset_id text PRIMARY KEY,
      parent_id text REFERENCES public.asset (asset_id) DEFERRABLE INITIALLY DEFERRED,
      level text NOT NULL CHECK (level IN ('site', 'area', 'line', 'asset')),
      name text NOT NULL,
      asset_type text,                          -- e.g. pump, compressor, conveyor (level asset only)
      criticality text CHECK (criticality IN ('high', 'medium', 'low')),
      time_zone text,                           -- IANA zone; set on sites, inherited below
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((level = 'site') = (parent_id IS NULL)),
      CHECK (parent_id IS NULL OR parent_id <> asset_id));
    CREATE INDEX asset_parent ON public.asset (parent_id);
    ALTER TABLE public.asset REPLICA IDENTITY FULL;
    COMMENT ON TABLE public.asset IS 'Plant hierarchy node (site > area > line > asset); CDC source of dw.dim_asset.';

    -- One installed sensor device. A device may report several metrics (metrics, metric_specs); the
    -- measurement_unit and range columns describe its primary metric, in the canonical UCUM unit.
    CREATE TABLE public.device (
      device_id text PRIMARY KEY,
      serial_number text NOT NULL UNIQUE,
      vendor text NOT NULL,                     -- wire format / manufacturer key, e.g. acme
      manufacturer text NOT NULL,
      model text NOT NULL,
      firmware_version text NOT NULL,
      asset_id text REFERENCES public.asset (asset_id),
      installed_at timestamptz,
      lifecycle_status text NOT NULL DEFAULT 'active'
        CHECK (lifecycle_status IN ('planned', 'active', 'maintenance', 'retired')),
      primary_metric text NOT NULL,             -- dw.dim_metric.metric_code
      measurement_unit text NOT NULL,           -- UCUM, canonical unit of the primary metric
      range_min double precision NOT NULL,      -- sensor spec range of the primary metric (gross-range fail span)
      range_max double precision NOT NULL,
      resolution double precision NOT NULL,     -- flat-line tolerance
      metrics text[] NOT NULL,                  -- every metric the device reports
      -- Per metric: {"temperature": {"unit": "Cel", "native_unit": "[degF]", "range_min": -40, ...}, ...}
      metric_specs jsonb NOT NULL,
      expected_interval_s integer NOT NULL CHECK (expected_interval_s > 0),
      calibration_interval_days integer NOT NULL CHECK (calibration_interval_days > 0),
      last_calibrated_at timestamptz,
      calibration_due date,                     -- last_calibrated_at + calibration_interval_days
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (range_min < range_max),
      CHECK (primary_metric = ANY (metrics)));
    CREATE INDEX device_asset ON public.device (asset_id);
    ALTER TABLE public.device REPLICA IDENTITY FULL;
    COMMENT ON TABLE public.device IS 'Sensor device register; CDC source of dw.dim_device.';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE public.device, public.asset');
}
