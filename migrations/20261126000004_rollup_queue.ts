import type { Knex } from 'knex';

// Hours whose hourly rollup must be (re)computed. The ingest transaction adds the hours its rows touch, so a
// late reading marks its hour again; the rollup (src/warehouse/rollup.ts) drains hours marked a moment ago,
// recomputing each hour from the facts, so a recompute is idempotent.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE hub.rollup_dirty (
      device_sk bigint NOT NULL,
      metric_sk smallint NOT NULL,
      hour_start timestamptz NOT NULL,
      marked_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (device_sk, metric_sk, hour_start));
    CREATE INDEX rollup_dirty_hour ON hub.rollup_dirty (hour_start);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS hub.rollup_dirty');
}
