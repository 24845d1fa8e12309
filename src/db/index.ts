import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

// int8 (bigint) and numeric arrive as strings by default; counts and offsets in the hub fit in a double,
// so bigint is parsed as a number. numeric stays a string to keep its precision.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type { Knex };

/** A knex instance on the hub database; the caller destroys it. */
export function createKnex(url: string, poolMax = 10): Knex {
  return knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: poolMax } });
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
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, tx: { rollback(): void }) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let rollbackOnly = false;
  try {
    await client.query('BEGIN');
    const value = await work(client, {
      rollback: () => {
        rollbackOnly = true;
      },
    });
    await client.query(rollbackOnly ? 'ROLLBACK' : 'COMMIT');
    return value;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
