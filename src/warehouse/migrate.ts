import pg from 'pg';
import * as dwDimensions from '../../migrations/20261126000001_dw_dimensions.ts';
import * as dwFacts from '../../migrations/20261126000002_dw_facts.ts';
import * as hubState from '../../migrations/20261126000003_hub_state.ts';
import * as rollupQueue from '../../migrations/20261126000004_rollup_queue.ts';
import * as alertTickets from '../../migrations/20261126000005_alert_tickets.ts';
import * as ingestAccounting from '../../migrations/20261201000000_ingest_accounting.ts';
import * as deviceState from '../../migrations/20261201100000_device_state.ts';
import * as cmdbCi from '../../migrations/20261201120000_cmdb_ci.ts';
import * as deviceOutbox from '../../migrations/20261201130000_device_outbox.ts';
import * as cmdbSink from '../../migrations/20261201140000_cmdb_sink.ts';
import * as dataQuality from '../../migrations/20261201150000_data_quality.ts';
import * as graphqlAudit from '../../migrations/20261201160000_graphql_audit.ts';
import * as assetHourly from '../../migrations/20261201170000_asset_hourly.ts';
import * as dimensionNotify from '../../migrations/20261201180000_dimension_notify.ts';
import { createKnex, ensureDatabase, type Knex } from '../db/index.ts';

export type MigrateAction = 'up' | 'down' | 'status';

export const migrateActions: readonly MigrateAction[] = ['up', 'down', 'status'];

export interface MigrateResult {
  action: MigrateAction;
  /** Migrations this call applied (up) or rolled back (down), in the order run; empty for status. */
  changed: string[];
  /** Migrations recorded as applied once the call is done, oldest first. */
  applied: string[];
  /** Known migrations not applied yet, in the order `up` would run them. */
  pending: string[];
  durationMs: number;
}

interface NamedMigration {
  name: string;
  migration: Knex.Migration;
}

// Listed explicitly with static imports instead of knex's directory loader, whose runtime import of .ts
// files bypasses vitest's module graph and depends on how Node was started; static imports work under both.
// A new migration is one file in migrations/ plus one line here; names sort in the order they run.
const migrations: readonly NamedMigration[] = [
  { name: '20261126000001_dw_dimensions', migration: dwDimensions },
  { name: '20261126000002_dw_facts', migration: dwFacts },
  { name: '20261126000003_hub_state', migration: hubState },
  { name: '20261126000004_rollup_queue', migration: rollupQueue },
  { name: '20261126000005_alert_tickets', migration: alertTickets },
  { name: '20261201000000_ingest_accounting', migration: ingestAccounting },
  { name: '20261201100000_device_state', migration: deviceState },
  { name: '20261201120000_cmdb_ci', migration: cmdbCi },
  { name: '20261201130000_device_outbox', migration: deviceOutbox },
  { name: '20261201140000_cmdb_sink', migration: cmdbSink },
  { name: '20261201150000_data_quality', migration: dataQuality },
  { name: '20261201160000_graphql_audit', migration: graphqlAudit },
  { name: '20261201170000_asset_hourly', migration: assetHourly },
  { name: '20261201180000_dimension_notify', migration: dimensionNotify },
].sort((a, b) => a.name.localeCompare(b.name));

const migrationSource: Knex.MigrationSource<NamedMigration> = {
  getMigrations: async () => [...migrations],
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m.migration,
};

// knex's bookkeeping tables (knex_migrations, knex_migrations_lock) stay in schema public: they must
// outlive the dw and hub schemas, which the first and last migrations drop on the way down.
const migratorConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/**
 * Applies (`up`: all pending, creating the database first if needed), rolls back (`down`: every applied
 * migration, newest first) or lists (`status`) the hub's migrations on the database at `url`, reporting
 * one line per step through `log`. `up` on an up-to-date database changes nothing; `status` and `down` on
 * a missing database report every migration pending. Errors from PostgreSQL propagate; a failing `up`
 * leaves the schemas as they were, because knex runs the whole batch in one transaction.
 */
export async function migrateDatabase(
  url: string,
  action: MigrateAction,
  log: (line: string) => void = () => {},
): Promise<MigrateResult> {
  const started = performance.now();
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  const finish = (changed: string[], applied: string[], pending: string[]): MigrateResult => {
    if (action === 'status') {
      for (const name of applied) log(`applied ${name}`);
      for (const name of pending) log(`pending ${name}`);
    }
    const durationMs = performance.now() - started;
    log(`${applied.length} applied, ${pending.length} pending (${formatMs(durationMs)})`);
    return { action, changed, applied, pending, durationMs };
  };

  if (action === 'up' && (await ensureDatabase(url))) log(`created database ${database}`);
  if (action !== 'up' && !(await databaseExists(url))) {
    log(`database ${database} does not exist`);
    const all = migrations.map((m) => m.name);
    return finish([], [], all);
  }
  const knex = createKnex(url, 2);
  try {
    const changed = await runAction(knex, action, log);
    const { applied, pending } = await listMigrations(knex);
    return finish(changed, applied, pending);
  } finally {
    await knex.destroy();
  }
}

/** Whether the database in `url` exists; other connection errors propagate. */
async function databaseExists(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '3D000') return false; // invalid_catalog_name
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

async function runAction(knex: Knex, action: MigrateAction, log: (line: string) => void): Promise<string[]> {
  switch (action) {
    case 'up': {
      // Migrations run in one transaction, so report them after the commit, each with its own time.
      const startedAt = new Map<string, number>();
      const tookMs = new Map<string, number>();
      const [, names]: [number, string[]] = await knex.migrate.latest({
        ...migratorConfig,
        beforeEach: async (_trx, [m]) => {
          startedAt.set((m as NamedMigration).name, performance.now());
        },
        afterEach: async (_trx, [m]) => {
          const name = (m as NamedMigration).name;
          tookMs.set(name, performance.now() - (startedAt.get(name) ?? 0));
        },
      });
      for (const name of names) log(`applied ${name} (${formatMs(tookMs.get(name) ?? 0)})`);
      if (names.length === 0) log('already up to date');
      return names;
    }
    case 'down': {
      const [, names]: [number, string[]] = await knex.migrate.rollback(migratorConfig, true);
      for (const name of names) log(`rolled back ${name}`);
      if (names.length === 0) log('nothing to roll back');
      return names;
    }
    case 'status':
      return [];
    default:
      throw new Error(`unknown migrate action '${action satisfies never}'; use ${migrateActions.join(', ')}`);
  }
}

async function listMigrations(knex: Knex): Promise<{ applied: string[]; pending: string[] }> {
  const [completed, pending]: [{ name: string }[], NamedMigration[]] =
    await knex.migrate.list(migratorConfig);
  return { applied: completed.map((m) => m.name), pending: pending.map((m) => m.name) };
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
