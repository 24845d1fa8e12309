import * as mdmSource from '../../../migrations/mdm/20261126100001_mdm_source.ts';
import { createKnex, type Knex, withDatabase } from '../../db/index.ts';
import { cdcRole } from '../stack/index.ts';

interface NamedMigration {
  name: string;
  migration: Knex.Migration;
}

// Listed explicitly, like the hub's own migrations (src/warehouse/migrate.ts): one file plus one line here.
const migrations: readonly NamedMigration[] = [{ name: '20261126100001_mdm_source', migration: mdmSource }];

const migratorConfig: Knex.MigratorConfig = {
  migrationSource: {
    getMigrations: async () => [...migrations],
    getMigrationName: (m: NamedMigration) => m.name,
    getMigration: async (m: NamedMigration) => m.migration,
  },
  tableName: 'knex_migrations',
};

/**
 * URL of the sample MDM database on the server of `serverUrl`, as the CDC role: the tables must be owned
 * by hub_cdc for Debezium's filtered publication, so both migrations and seeding connect as that role.
 */
export function mdmDatabaseUrl(serverUrl: string): string {
  const url = new URL(withDatabase(serverUrl, 'mdm'));
  url.username = cdcRole.name;
  url.password = cdcRole.password;
  return url.toString();
}

/**
 * Applies the sample MDM schema's pending migrations (tables public.asset and public.device) to the `mdm`
 * database of the server at `serverUrl` and returns the names it applied (empty when up to date). The
 * database and the hub_cdc role come from `iot-hub stack up`; when either is missing the connection error
 * propagates.
 */
export async function migrateMdm(serverUrl: string): Promise<string[]> {
  const knex = createKnex(mdmDatabaseUrl(serverUrl), 1);
  try {
    const [, applied]: [number, string[]] = await knex.migrate.latest(migratorConfig);
    return applied;
  } finally {
    await knex.destroy();
  }
}
