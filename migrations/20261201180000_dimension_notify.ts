import type { Knex } from 'knex';

// Every statement that changes a cached dimension table notifies iot_hub_dimension_changed with the table's name,
// so the GraphQL stage's shared dimension cache drops that table's rows (src/graphql/dimension-cache.ts,
// docs/graphql.md "Dimension cache"). One notification per statement, delivered at commit, whatever its rows.

const tables = ['dim_device', 'dim_asset', 'dim_metric'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION hub.notify_dimension_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('iot_hub_dimension_changed', TG_TABLE_NAME);
      RETURN NULL;
    END $$;
  `);
  for (const table of tables)
    await knex.raw(`
      CREATE TRIGGER ${table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON dw.${table}
        FOR EACH STATEMENT EXECUTE FUNCTION hub.notify_dimension_changed();
    `);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of tables) await knex.raw(`DROP TRIGGER ${table}_changed ON dw.${table}`);
  await knex.raw('DROP FUNCTION hub.notify_dimension_changed()');
}
