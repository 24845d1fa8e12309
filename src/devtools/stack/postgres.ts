import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { StackError } from './errors.ts';
import { sleep } from './processes.ts';

/** Role Debezium connects as: LOGIN + REPLICATION, owner of the sample source databases. */
export const cdcRole = { name: 'hub_cdc', password: 'hub_cdc' } as const;
/** Sample source systems that CDC reads: master data (devices, assets) and maintenance (work orders). */
export const sourceDatabases = ['mdm', 'cmms'] as const;

export interface PostgresSetup {
  version: string;
  restarted: boolean;
  createdDatabases: string[];
}

/** WAL a replication slot may hold back at most (PostgreSQL's max_slot_wal_keep_size). */
export const slotWalKeep = '4GB';

/**
 * Prepares PostgreSQL for CDC: wal_level=logical (restarting a local Debian cluster when it changes), a cap on
 * the WAL an idle slot holds, the CDC role, and the sample databases. Needs a superuser, which it checks first.
 */
export async function preparePostgres(
  databaseUrl: string,
  log: (line: string) => void,
): Promise<PostgresSetup> {
  const adminUrl = serverUrl(databaseUrl);
  let client = await connect(adminUrl);
  try {
    const { rows } = await client.query<{ rolsuper: boolean; rolname: string }>(
      'SELECT rolsuper, rolname FROM pg_roles WHERE rolname = current_user',
    );
    if (!rows[0]?.rolsuper) {
      throw new StackError(
        `PostgreSQL role '${rows[0]?.rolname}' is not a superuser; stack up needs one to set wal_level and create the CDC role. Point DATABASE_URL at a superuser (e.g. postgres).`,
      );
    }
    let restarted = false;
    const wal = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]!.wal_level;
    if (wal !== 'logical') {
      log(`PostgreSQL wal_level is ${wal}; setting it to logical for CDC and restarting the server`);
      await client.query('ALTER SYSTEM SET wal_level = logical');
      const dataDir = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!
        .data_directory;
      await client.end();
      restartCluster(dataDir, adminUrl);
      client = await waitForServer(adminUrl);
      restarted = true;
    }
    // A replication slot whose connector is stopped (stack down) keeps WAL for it; on a developer's machine
    // that must not fill the disk. Past this much WAL the slot is invalidated instead, and the connector
    // reports it when applied again (docs/architecture.md, "CDC and dimensions").
    const keep = (await client.query<{ max_slot_wal_keep_size: string }>('SHOW max_slot_wal_keep_size'))
      .rows[0]!;
    if (keep.max_slot_wal_keep_size === '-1') {
      await client.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '${slotWalKeep}'`);
      await client.query('SELECT pg_reload_conf()');
      log(
        `PostgreSQL max_slot_wal_keep_size set to ${slotWalKeep} (an idle replication slot cannot fill the disk)`,
      );
    }
    await ensureCdcRole(client);
    const createdDatabases: string[] = [];
    for (const db of sourceDatabases) {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (!exists.rowCount) {
        await client.query(`CREATE DATABASE ${db} OWNER ${cdcRole.name}`);
        createdDatabases.push(db);
      }
    }
    const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!
      .server_version;
    return { version, restarted, createdDatabases };
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureCdcRole(client: pg.Client): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [cdcRole.name]);
  const verb = exists.rowCount ? 'ALTER' : 'CREATE';
  await client.query(`${verb} ROLE ${cdcRole.name} WITH LOGIN REPLICATION PASSWORD '${cdcRole.password}'`);
}

/** The server's maintenance database URL (`postgres`) for the same host, port and user. */
export function serverUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  return u.toString();
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return client;
  } catch (err) {
    const u = new URL(url);
    throw new StackError(
      `PostgreSQL is not reachable at ${u.hostname}:${u.port || 5432} as '${decodeURIComponent(u.username) || 'default user'}' (${(err as Error).message}). Start it (Debian: pg_ctlcluster 15 main start) or set DATABASE_URL.`,
    );
  }
}

/** Restarts a Debian-managed cluster (pg_ctlcluster); elsewhere says how to do it by hand. */
function restartCluster(dataDir: string, url: string): void {
  const match = /\/postgresql\/(\d+)\/([^/]+)\/?$/.exec(dataDir);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(url).hostname);
  const hasCtl = spawnSync('pg_ctlcluster', ['--help'], { encoding: 'utf8' }).error === undefined;
  if (!match || !local || !hasCtl) {
    throw new StackError(
      'wal_level was set to logical with ALTER SYSTEM, but this server must be restarted for it to apply. Restart PostgreSQL, then run `iot-hub stack up` again.',
    );
  }
  const res = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', match[1]!, match[2]!, 'restart'], {
    encoding: 'utf8',
  });
  if (res.status !== 0) {
    throw new StackError(
      `restarting PostgreSQL failed (${res.stderr.trim()}); restart it by hand, then run stack up again.`,
    );
  }
}

async function waitForServer(url: string): Promise<pg.Client> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await connect(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(300);
    }
  }
}

/** Version and reachability, for `stack status`. */
export async function postgresStatus(
  databaseUrl: string,
): Promise<{ up: boolean; version?: string; walLevel?: string; error?: string }> {
  const client = new pg.Client({ connectionString: serverUrl(databaseUrl), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!
      .server_version;
    const walLevel = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]!.wal_level;
    return { up: true, version, walLevel };
  } catch (err) {
    return { up: false, error: (err as Error).message };
  } finally {
    await client.end().catch(() => {});
  }
}
