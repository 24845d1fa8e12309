import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { componentLogger, createCondition, type Logger } from '../observability/logger.ts';

// int8 (bigint) and numeric arrive as strings by default; counts, keys and offsets in the hub fit in a double,
// so the hub's pools parse bigint as a number. numeric stays a string to keep its precision. Per pool, not
// pg.types.setTypeParser: importing this module changes nothing for other pg users in the process.
const parseInt8 = (v: string) => Number(v);
export const hubTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export type { Knex };

export interface PoolOptions {
  /** Connections at most (default 10). */
  max?: number;
  /** Where connection trouble is logged; a child with component 'db' is made from it. */
  logger?: Logger;
  /** Names the pool in log lines and, unless the URL sets one, in pg_stat_activity.application_name. */
  name?: string;
  /** Gives up on a new connection after this long (default 5000 ms), so an unreachable server fails a batch. */
  connectionTimeoutMs?: number;
  /** Closes idle connections after this long (default 30 000 ms). */
  idleTimeoutMs?: number;
  /** Runs on each new connection before anyone uses it, outside any transaction (e.g. session setup). */
  onConnect?: (client: pg.PoolClient) => Promise<void>;
}

/**
 * A pg.Pool that survives a database restart. pg emits 'error' on the pool when an idle connection dies; with
 * no listener that kills the process, so this pool always has one. It logs one warning per outage (the first
 * error after a good connection) and one info line when a new connection succeeds again.
 */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const name = options.name ?? 'hub';
  const log = componentLogger(options.logger, 'db', { pool: name });
  const target = new URL(url);
  if (!target.searchParams.has('application_name')) target.searchParams.set('application_name', name);
  const pool = new pg.Pool({
    connectionString: target.toString(),
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    // A peer that vanished without a FIN (a pulled cable, a dropped NAT entry) is noticed by TCP keepalive.
    keepAlive: true,
    types: hubTypes,
    // pg-pool awaits onConnect before handing the connection out (not in @types/pg).
    ...(options.onConnect ? { onConnect: options.onConnect } : {}),
  } as pg.PoolConfig);
  const outage = createCondition(log, `database pool ${name}`);
  pool.on('error', (err) => {
    outage.begin(
      { err: describeDbError(err), code: dbErrorCode(err) },
      `database connection of pool ${name} lost; queries will reconnect (check that PostgreSQL is up)`,
    );
  });
  pool.on('connect', () => {
    outage.end({}, `database pool ${name} connected again`);
  });
  return pool;
}

export interface KnexOptions {
  poolMax?: number;
  logger?: Logger;
  name?: string;
}

/** A knex instance on the hub database; the caller destroys it. Its log lines and pool trouble go to pino. */
export function createKnex(url: string, options: number | KnexOptions = {}): Knex {
  const o: KnexOptions = typeof options === 'number' ? { poolMax: options } : options;
  const name = o.name ?? 'knex';
  const log = componentLogger(o.logger, 'db', { pool: name });
  const outage = createCondition(log, `database pool ${name}`);
  const lost = (detail: unknown) =>
    outage.begin(
      { err: describeDbError(detail), code: dbErrorCode(detail) },
      `database connection of pool ${name} lost; queries will reconnect (check that PostgreSQL is up)`,
    );
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, types: hubTypes as unknown as Knex.PgConnectionConfig['types'] },
    pool: { min: 0, max: o.poolMax ?? 10 },
    log: {
      // knex reports a pooled connection that died ("Connection Error: …") and a failed connect ("Acquire
      // connection error: …") as warnings, each time: both belong to the outage, logged once.
      warn: (message: unknown) =>
        typeof message === 'string' && /^(Connection Error|Acquire connection error)/.test(message)
          ? lost(message.split('\n')[0])
          : log.warn({ detail: message }, 'knex warning'),
      error: (message: unknown) => log.error({ detail: message }, 'knex error'),
      deprecate: (method: string, alternative: string) =>
        log.warn({ method, alternative }, `knex: ${method} is deprecated; use ${alternative}`),
      debug: (message: unknown) => log.debug({ detail: message }, 'knex debug'),
    },
  });
  // knex's pool is tarn: a failed connect is 'createFail', a good one 'createSuccess'.
  const tarn = (knex.client as { pool?: TarnEvents }).pool;
  tarn?.on('createFail', (_id: number, err: unknown) => lost(err));
  tarn?.on('createSuccess', () => outage.end({}, `database pool ${name} connected again`));
  return knex;
}

interface TarnEvents {
  on(event: 'createFail', handler: (id: number, err: unknown) => void): void;
  on(event: 'createSuccess', handler: () => void): void;
}

/** Creates the database named in `url` if it does not exist, connecting through the server's `postgres` database. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    return true;
  } finally {
    await client.end();
  }
}

/** The same server URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Anything that runs a query: a pool, a pooled client inside a transaction, a single client. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT when it resolves, ROLLBACK when it throws
 * (the error propagates) or when it called `tx.rollback()` to undo its work without failing.
 *
 * While the work runs the client has an 'error' listener: a connection dropped mid-batch then rejects this
 * promise instead of being an unhandled 'error' event that ends the process. A client whose connection broke
 * is released with the error, so the pool discards it rather than handing it to the next caller.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, tx: { rollback(): void }) => Promise<T>,
  /** How the transaction starts, e.g. 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'. */
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken ??= err;
  };
  client.on('error', onError);
  let rollbackOnly = false;
  try {
    await client.query(begin);
    const value = await work(client, {
      rollback: () => {
        rollbackOnly = true;
      },
    });
    await client.query(rollbackOnly ? 'ROLLBACK' : 'COMMIT');
    return value;
  } catch (err) {
    if (isTransientDbError(err)) broken ??= err as Error;
    if (!broken) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e as Error;
      });
    }
    // The connection's own error says more than a statement that failed because of it.
    throw broken && !isTransientDbError(err) && isTransientDbError(broken) ? broken : err;
  } finally {
    client.release(broken);
    client.removeListener('error', onError);
  }
}

// SQLSTATE classes and codes that mean "the connection or the server went away", not "this statement is wrong":
// 08 connection exception, 57P01 admin shutdown (pg_terminate_backend, a stopping server), 57P02 crash shutdown,
// 57P03 cannot connect now (starting up or shutting down).
const transientSqlStates = new Set(['57P01', '57P02', '57P03']);
const transientSocketCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const transientMessages = [
  'Connection terminated',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'timeout exceeded when trying to connect',
  'Client was closed and is not queryable',
];

/**
 * True for errors that say the database was unreachable or dropped the connection (a restart, a failover, a
 * killed backend, a network blip): retrying the same work later can succeed. False for errors about the work
 * itself (a constraint, a syntax error, a serialization failure the caller handles).
 */
export function isTransientDbError(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (transientSqlStates.has(code) || /^08[0-9A-Z]{3}$/.test(code) || transientSocketCodes.has(code))
        return true;
    }
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && transientMessages.some((m) => message.includes(m))) return true;
    // AggregateError (several addresses refused) and wrapped causes.
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.some((x) => isTransientDbError(x))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The SQLSTATE or socket error code of `err` (or of a nested cause), for log fields. */
export function dbErrorCode(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0) return dbErrorCode(inner[0]);
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeDbError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

// Besides a lost connection: the transaction was rolled back for a conflict (serialization failure, deadlock)
// or the server lacked resources (class 53), and the pool timed out waiting for a connection.
const retriableSqlState = /^(53...|40001|40P01)$/;

/**
 * True when running the same transaction again can succeed: a transient connection error (isTransientDbError),
 * a serialization failure or deadlock, exhausted server resources, or a pool that had no connection in time.
 */
export function isRetriableDbError(err: unknown): boolean {
  if (isTransientDbError(err)) return true;
  if (!(err instanceof Error)) return false;
  if (err.name === 'KnexTimeoutError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && retriableSqlState.test(code)) return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isRetriableDbError(cause);
}
