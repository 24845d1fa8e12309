import type { Knex } from 'knex';

// The hourly rollup summed over each asset's devices (docs/graphql.md, "Semantic metrics"): a site- or
// line-level metric over a month reads a hundred times fewer rows than dw.fact_sensor_hourly. Kept by the same
// job, from the device hours it has just recomputed (src/warehouse/rollup.ts); the asset version (asset_sk) is
// the one the device hour carries, so site, area and line are as they were, and names join at query time.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE dw.fact_asset_hourly (
      asset_sk bigint NOT NULL,
      metric_sk smallint NOT NULL,
      hour_start timestamptz NOT NULL CHECK (extract(epoch FROM hour_start) % 3600 = 0),
      n_devices integer NOT NULL,
      n_expected bigint NOT NULL,
      n_received bigint NOT NULL,
      n_suspect bigint NOT NULL,
      n_fail bigint NOT NULL,
      min_value double precision,
      max_value double precision,
      sum_value double precision,
      computed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (hour_start, metric_sk, asset_sk));
    COMMENT ON TABLE dw.fact_asset_hourly IS
      'dw.fact_sensor_hourly summed per asset version, metric and hour; maintained with it (src/warehouse/rollup.ts)';
    INSERT INTO dw.fact_asset_hourly (asset_sk, metric_sk, hour_start, n_devices, n_expected, n_received, n_suspect,
      n_fail, min_value, max_value, sum_value)
    SELECT asset_sk, metric_sk, hour_start, count(*), sum(n_expected), sum(n_received), sum(n_suspect), sum(n_fail),
           min(min_value), max(max_value), sum(sum_value)
    FROM dw.fact_sensor_hourly GROUP BY asset_sk, metric_sk, hour_start;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE dw.fact_asset_hourly');
}
