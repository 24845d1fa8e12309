import * as cmmsSource from '../../../migrations/cmms/20261201110001_cmms_source.ts';
import { createKnex, type Knex, withDatabase } from '../../db/index.ts';
import { cdcRole } from '../stack/index.ts';

interface NamedMigration {
  name: string;
  migration: Knex.Migration;
}

// Listed explicitly, like the MDM's (mdm-schema.ts): one file plus one line here.
const migrations: readonly NamedMigration[] = [{ name: '20261201110001_cmms_source', migration: cmmsSource }];

const migratorConfig: Knex.MigratorConfig = {
  migrationSource: {
    getMigrations: async () => [...migrations],
    getMigrationName: (m: NamedMigration) => m.name,
    getMigration: async (m: NamedMigration) => m.migration,
  },
  tableName: 'knex_migrations',
};

/**
 * URL of the sample CMMS database on the server of `serverUrl`, as the CDC role: its tables must be owned by
 * hub_cdc for Debezium's filtered publication, so migrations and the simulator connect as that role.
 */
export function cmmsDatabaseUrl(serverUrl: string): string {
  const url = new URL(withDatabase(serverUrl, 'cmms'));
  url.username = cdcRole.name;
  url.password = cdcRole.password;
  return url.toString();
}

/**
 * Applies the sample CMMS schema's pending migrations (table public.work_order) to the `cmms` database of the
 * server at `serverUrl` and returns the names it applied (empty when up to date). The database and the hub_cdc
 * role come from `iot-hub stack up`; when either is missing the connection error propagates.
 */
export async function migrateCmms(serverUrl: string): Promise<string[]> {
  const knex = createKnex(cmmsDatabaseUrl(serverUrl), 1);
  try {
    const [, applied]: [number, string[]] = await knex.migrate.latest(migratorConfig);
    return applied;
  } finally {
    await knex.destroy();
  }
}
