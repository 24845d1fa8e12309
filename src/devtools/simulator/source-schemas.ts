import * as cmmsSource from '../../../migrations/cmms/20261201110001_cmms_source.ts';
import * as mdmSource from '../../../migrations/mdm/20261126100001_mdm_source.ts';
import { createKnex, type Knex, withDatabase } from '../../db/index.ts';
import { cdcRole } from '../stack/index.ts';

interface NamedMigration {
  name: string;
  migration: Knex.Migration;
}

/**
 * The sample source systems CDC reads and their migrations, listed explicitly like the hub's own
 * (src/warehouse/migrate.ts): MDM (public.asset, public.device) and the CMMS (public.work_order).
 */
const sources = {
  mdm: [{ name: '20261126100001_mdm_source', migration: mdmSource }],
  cmms: [{ name: '20261201110001_cmms_source', migration: cmmsSource }],
} satisfies Record<string, readonly NamedMigration[]>;

export type SampleSource = keyof typeof sources;

/**
 * URL of a sample source database on the server of `serverUrl`, as the CDC role: the tables must be owned by
 * hub_cdc for Debezium's filtered publication, so migrations and the simulator connect as that role.
 */
export function sourceDatabaseUrl(serverUrl: string, source: SampleSource): string {
  const url = new URL(withDatabase(serverUrl, source));
  url.username = cdcRole.name;
  url.password = cdcRole.password;
  return url.toString();
}

/**
 * Applies a sample source's pending migrations to its database on the server at `serverUrl` and returns the
 * names it applied (empty when up to date). The database and the hub_cdc role come from `iot-hub stack up`;
 * when either is missing the connection error propagates.
 */
export async function migrateSource(serverUrl: string, source: SampleSource): Promise<string[]> {
  const migrations: readonly NamedMigration[] = sources[source];
  const knex = createKnex(sourceDatabaseUrl(serverUrl, source), 1);
  try {
    const [, applied]: [number, string[]] = await knex.migrate.latest({
      migrationSource: {
        getMigrations: async () => [...migrations],
        getMigrationName: (m: NamedMigration) => m.name,
        getMigration: async (m: NamedMigration) => m.migration,
      },
      tableName: 'knex_migrations',
    });
    return applied;
  } finally {
    await knex.destroy();
  }
}

/** The sample MDM database's URL (see sourceDatabaseUrl). */
export const mdmDatabaseUrl = (serverUrl: string) => sourceDatabaseUrl(serverUrl, 'mdm');
/** The sample CMMS database's URL (see sourceDatabaseUrl). */
export const cmmsDatabaseUrl = (serverUrl: string) => sourceDatabaseUrl(serverUrl, 'cmms');
/** Migrates the sample MDM (public.asset, public.device). */
export const migrateMdm = (serverUrl: string) => migrateSource(serverUrl, 'mdm');
/** Migrates the sample CMMS (public.work_order). */
export const migrateCmms = (serverUrl: string) => migrateSource(serverUrl, 'cmms');
