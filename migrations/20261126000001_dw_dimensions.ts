import type { Knex } from 'knex';

// Star-schema dimensions; the conventions are in docs/architecture.md, "Warehouse schema".
//
// Unknown member convention: in every dimension the surrogate key -1 is the "unknown" row. Loaders attach a
// fact to it when a lookup finds nothing and the mapping says `on_missing: unknown_member`, so fact foreign
// keys are always satisfiable. Text natural keys of the unknown rows are '#unknown' (a value no source
// system emits), display labels are 'Unknown', and calendar/clock attributes are NULL.

/** Calendar span populated at migration time; dw.ensure_dim_date() extends it on demand. */
const calendarFrom = '2020-01-01';
const calendarTo = '2035-12-31';

interface MetricSeed {
  metric_code: string;
  metric_name: string;
  /** UCUM code (https://ucum.org/ucum); readings are stored converted to it. */
  canonical_unit: string;
  /** Physically plausible bounds in the canonical unit; a reading outside them is a gross-range failure. */
  valid_min: number | null;
  valid_max: number | null;
  description: string;
}

const metrics: readonly MetricSeed[] = [
  {
    metric_code: 'temperature',
    metric_name: 'Temperature',
    canonical_unit: 'Cel',
    valid_min: -273.15,
    valid_max: 2000,
    description: 'Process or ambient temperature; the lower bound is absolute zero.',
  },
  {
    metric_code: 'vibration',
    metric_name: 'Vibration velocity (RMS)',
    canonical_unit: 'mm/s',
    valid_min: 0,
    valid_max: 1000,
    description: 'RMS vibration velocity (ISO 10816 / 20816 scale).',
  },
  {
    metric_code: 'pressure',
    metric_name: 'Pressure (gauge)',
    canonical_unit: 'kPa',
    valid_min: -101.325,
    valid_max: 100000,
    description: 'Gauge pressure; the lower bound is a perfect vacuum at standard atmosphere.',
  },
  {
    metric_code: 'humidity',
    metric_name: 'Relative humidity',
    canonical_unit: '%',
    valid_min: 0,
    valid_max: 100,
    description: 'Relative humidity of air.',
  },
  {
    metric_code: 'power',
    metric_name: 'Active power',
    canonical_unit: 'kW',
    valid_min: -100000,
    valid_max: 100000,
    description: 'Active electrical power; negative when the device feeds energy back.',
  },
  {
    metric_code: 'battery',
    metric_name: 'Battery level',
    canonical_unit: '%',
    valid_min: 0,
    valid_max: 100,
    description: 'State of charge of the device battery.',
  },
  {
    metric_code: 'flow',
    metric_name: 'Volumetric flow rate',
    canonical_unit: 'm3/h',
    valid_min: -100000,
    valid_max: 100000,
    description: 'Volumetric flow; negative for reverse flow on bidirectional meters.',
  },
  {
    metric_code: 'energy',
    metric_name: 'Energy (meter reading)',
    canonical_unit: 'kW.h',
    valid_min: 0,
    valid_max: null,
    description: 'Cumulative energy register; UCUM writes kilowatt-hour as kW.h.',
  },
  {
    metric_code: 'current',
    metric_name: 'Electric current',
    canonical_unit: 'A',
    valid_min: -100000,
    valid_max: 100000,
    description: 'Electric current (RMS for AC).',
  },
  {
    metric_code: 'voltage',
    metric_name: 'Voltage',
    canonical_unit: 'V',
    valid_min: -1000000,
    valid_max: 1000000,
    description: 'Electric potential difference (RMS for AC).',
  },
  {
    metric_code: 'rotational_speed',
    metric_name: 'Rotational speed',
    canonical_unit: '/min',
    valid_min: 0,
    valid_max: 100000,
    description: 'Shaft speed in revolutions per minute.',
  },
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE EXTENSION IF NOT EXISTS btree_gist;  -- exclusion constraints mixing = and &&
    CREATE EXTENSION IF NOT EXISTS ltree;       -- asset hierarchy paths
    CREATE SCHEMA dw;

    -- Date and time of day are separate small dimensions; the fact keeps the exact reading_ts.
    CREATE TABLE dw.dim_date (
      date_key int PRIMARY KEY,                 -- yyyymmdd; -1 unknown
      full_date date UNIQUE,
      year smallint, quarter smallint, month smallint, day_of_month smallint,
      iso_year smallint, iso_week smallint, iso_dow smallint,
      month_name text, day_name text, is_weekend boolean);
    COMMENT ON TABLE dw.dim_date IS 'Calendar day, key yyyymmdd; -1 is the unknown member (NULL attributes).';

    -- Idempotent: loaders call it for dates outside the populated span before attaching facts.
    CREATE FUNCTION dw.ensure_dim_date(p_from date, p_to date) RETURNS integer
    LANGUAGE sql AS $$
      WITH inserted AS (
        INSERT INTO dw.dim_date
        SELECT to_char(d, 'YYYYMMDD')::int, d,
               extract(year FROM d), extract(quarter FROM d), extract(month FROM d), extract(day FROM d),
               extract(isoyear FROM d), extract(week FROM d), extract(isodow FROM d),
               to_char(d, 'FMMonth'), to_char(d, 'FMDay'), extract(isodow FROM d) >= 6
        FROM generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') AS g(ts), LATERAL (SELECT ts::date AS d) x
        ON CONFLICT (date_key) DO NOTHING
        RETURNING 1)
      SELECT count(*)::int FROM inserted
    $$;

    CREATE TABLE dw.dim_time_of_day (
      time_key smallint PRIMARY KEY,            -- minute of day 0..1439; -1 unknown
      hh smallint, mi smallint,
      hh_mi text,                               -- '07:05'
      shift_code text);                         -- plant shift; NULL until a site calendar fills it
    COMMENT ON TABLE dw.dim_time_of_day IS 'Minute of day (UTC); -1 is the unknown member (NULL attributes).';

    CREATE TABLE dw.dim_metric (
      metric_sk smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      metric_code text NOT NULL UNIQUE,
      metric_name text NOT NULL,
      canonical_unit text,                      -- UCUM code; values on facts are in this unit
      valid_min double precision,               -- physically plausible range (gross-range fail span)
      valid_max double precision,
      description text,
      CHECK (metric_sk = -1 OR canonical_unit IS NOT NULL),
      CHECK (valid_min IS NULL OR valid_max IS NULL OR valid_min < valid_max));
    COMMENT ON TABLE dw.dim_metric IS 'Measured quantity with its canonical UCUM unit; -1 is the unknown member.';

    -- SCD type 2: one current row per natural key (partial unique index) and no overlapping validity
    -- (exclusion constraint); both make duplicate current rows impossible rather than detectable.
    CREATE TABLE dw.dim_asset (
      asset_sk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      asset_nk text NOT NULL,                   -- CMDB CI sys_id / asset tag
      asset_level text NOT NULL CHECK (asset_level IN ('site', 'area', 'line', 'asset')),
      parent_asset_nk text,
      asset_name text NOT NULL,
      -- Flattened levels (site > area > line > asset) for plain GROUP BY; NULL where a level is skipped.
      site_nk text, site_name text,
      area_nk text, area_name text,
      line_nk text, line_name text,
      hierarchy_path ltree NOT NULL,            -- labels built from ids, never names (docs/architecture.md)
      criticality text,
      valid_from timestamptz NOT NULL,          -- '-infinity' for a key's first version: older readings attach
      valid_to timestamptz NOT NULL DEFAULT 'infinity',
      is_current boolean NOT NULL DEFAULT true,
      is_inferred boolean NOT NULL DEFAULT false,
      row_hash bytea NOT NULL,                  -- sha256 of the tracked columns (change detection)
      source_system text NOT NULL,
      source_updated_at timestamptz,
      source_commit_lsn bigint,                 -- CDC version guard: (commit LSN, LSN) of the applied change
      source_lsn bigint,
      CHECK (valid_from < valid_to),
      EXCLUDE USING gist (asset_nk WITH =, tstzrange(valid_from, valid_to) WITH &&));
    CREATE UNIQUE INDEX dim_asset_one_current ON dw.dim_asset (asset_nk) WHERE is_current;
    CREATE INDEX dim_asset_path_gist ON dw.dim_asset USING gist (hierarchy_path);
    COMMENT ON TABLE dw.dim_asset IS 'Asset hierarchy node, SCD type 2; asset_sk -1 / asset_nk ''#unknown'' is the unknown member.';

    -- Closure table: every ancestor/descendant pair including self (depth 0); rebuilt on each CMDB load.
    -- Keyed by natural keys so it does not multiply with SCD2 versions.
    CREATE TABLE dw.bridge_asset_hierarchy (
      ancestor_asset_nk text NOT NULL,
      descendant_asset_nk text NOT NULL,
      depth_from_ancestor smallint NOT NULL CHECK (depth_from_ancestor >= 0),
      is_leaf boolean NOT NULL,
      PRIMARY KEY (ancestor_asset_nk, descendant_asset_nk));
    CREATE INDEX bridge_asset_hierarchy_descendant ON dw.bridge_asset_hierarchy (descendant_asset_nk);

    CREATE TABLE dw.dim_device (
      device_sk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      device_nk text NOT NULL,                  -- MDM id
      serial_number text, model text, manufacturer text, firmware_version text,
      installed_asset_nk text,
      measurement_unit text, range_min double precision, range_max double precision,
      resolution double precision,              -- sensor resolution: the tolerance of a flat-line check
      expected_interval_s integer,              -- reporting cadence, for gap checks and n_expected
      calibration_interval_days integer, last_calibrated_at timestamptz,
      lifecycle_status text,
      valid_from timestamptz NOT NULL,
      valid_to timestamptz NOT NULL DEFAULT 'infinity',
      is_current boolean NOT NULL DEFAULT true,
      is_inferred boolean NOT NULL DEFAULT false,
      row_hash bytea NOT NULL,
      source_system text NOT NULL,
      source_updated_at timestamptz,
      source_commit_lsn bigint,
      source_lsn bigint,
      CHECK (valid_from < valid_to),
      EXCLUDE USING gist (device_nk WITH =, tstzrange(valid_from, valid_to) WITH &&));
    CREATE UNIQUE INDEX dim_device_one_current ON dw.dim_device (device_nk) WHERE is_current;
    CREATE INDEX dim_device_installed_asset ON dw.dim_device (installed_asset_nk) WHERE is_current;
    COMMENT ON TABLE dw.dim_device IS 'Sensor device, SCD type 2; device_sk -1 / device_nk ''#unknown'' is the unknown member.';

    -- Unknown members (key -1). Identity columns need OVERRIDING SYSTEM VALUE for an explicit key.
    INSERT INTO dw.dim_date (date_key) VALUES (-1);
    INSERT INTO dw.dim_time_of_day (time_key) VALUES (-1);
    INSERT INTO dw.dim_metric (metric_sk, metric_code, metric_name, description)
      OVERRIDING SYSTEM VALUE VALUES (-1, '#unknown', 'Unknown', 'Unknown metric');
    INSERT INTO dw.dim_asset (asset_sk, asset_nk, asset_level, asset_name, site_name, area_name, line_name,
                              hierarchy_path, valid_from, row_hash, source_system)
      OVERRIDING SYSTEM VALUE
      VALUES (-1, '#unknown', 'asset', 'Unknown', 'Unknown', 'Unknown', 'Unknown', 'unknown', '-infinity', '\\x00', 'hub');
    INSERT INTO dw.bridge_asset_hierarchy VALUES ('#unknown', '#unknown', 0, true);
    INSERT INTO dw.dim_device (device_sk, device_nk, lifecycle_status, valid_from, row_hash, source_system)
      OVERRIDING SYSTEM VALUE VALUES (-1, '#unknown', 'unknown', '-infinity', '\\x00', 'hub');

    INSERT INTO dw.dim_time_of_day (time_key, hh, mi, hh_mi)
      SELECT m, m / 60, m % 60, lpad((m / 60)::text, 2, '0') || ':' || lpad((m % 60)::text, 2, '0')
      FROM generate_series(0, 1439) AS m;
  `);
  await knex.raw('SELECT dw.ensure_dim_date(?::date, ?::date)', [calendarFrom, calendarTo]);
  await knex('dw.dim_metric').insert(metrics);
}

export async function down(knex: Knex): Promise<void> {
  // The extensions stay: they are database-wide and may predate this migration.
  await knex.raw('DROP SCHEMA dw CASCADE');
}
