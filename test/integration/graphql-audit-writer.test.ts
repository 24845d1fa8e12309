import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type AuditEntry, AuditWriter } from '../../src/graphql/governance/audit.ts';
import type { Logger } from '../../src/observability/index.ts';

// The audit writer's group commit (docs/graphql.md, "Governance" and "GraphQL benchmark"): rows written while
// an insert runs go together in one multi-row INSERT; flush (server stop) leaves none behind.

const OPERATION = 'g3-audit-writer';
let db: pg.Pool;

const entry = (i: number, subject = `g3-user-${i}`): AuditEntry => ({
  principal: { subject, role: 'admin', kind: 'user' },
  operationName: OPERATION,
  operationType: 'query',
  queryHash: `hash-${i}`,
  variables: { deviceId: `dev-${i}` },
  fields: ['Query.devices'],
  classifications: [],
  rows: i,
  durationMs: 1.5,
  outcome: 'ok',
  errorCodes: [],
  errorMessage: null,
});

beforeAll(() => {
  db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
});

afterAll(async () => {
  await db?.query('DELETE FROM hub.audit_log WHERE operation = $1', [OPERATION]);
  await db?.end();
});

describe('AuditWriter', () => {
  it('writes 250 rows written at once in few statements, all of them in the table after flush', async () => {
    await db.query('DELETE FROM hub.audit_log WHERE operation = $1', [OPERATION]);
    const inserts: number[] = [];
    const counted = new WeakSet<pg.PoolClient>();
    const counting = Object.create(db) as pg.Pool;
    counting.connect = (async () => {
      const client = await db.connect();
      if (counted.has(client)) return client;
      counted.add(client);
      const query = client.query.bind(client);
      // Every argument passed on: pool.query calls client.query with a callback.
      client.query = ((...args: Parameters<typeof query>) => {
        const [text, values] = args as unknown as [string, unknown[] | undefined];
        if (typeof text === 'string' && text.startsWith('INSERT')) inserts.push((values?.length ?? 0) / 14);
        return (query as (...a: unknown[]) => unknown)(...args);
      }) as typeof client.query;
      return client;
    }) as typeof db.connect;
    const writer = new AuditWriter(counting, { error: vi.fn() } as unknown as Logger);
    for (let i = 0; i < 250; i++) writer.write(entry(i));
    await writer.flush();
    // The rows written together go in batches of at most 100.
    expect(inserts).toEqual([100, 100, 50]);
    const { rows } = await db.query(
      'SELECT who, variables, row_count FROM hub.audit_log WHERE operation = $1 ORDER BY row_count',
      [OPERATION],
    );
    expect(rows).toHaveLength(250);
    expect(rows[7]).toEqual({ who: 'g3-user-7', variables: { deviceId: '***-7' }, row_count: 7 });
  });

  it('keeps the other rows of a batch when the table refuses one, and logs the refused one', async () => {
    await db.query('DELETE FROM hub.audit_log WHERE operation = $1', [OPERATION]);
    const error = vi.fn();
    const writer = new AuditWriter(db, { error } as unknown as Logger);
    writer.write(entry(0));
    writer.write(entry(1));
    writer.write(entry(2, 'bad\u0000subject')); // PostgreSQL text cannot hold a NUL byte
    writer.write(entry(3));
    await writer.flush();
    const { rows } = await db.query('SELECT who FROM hub.audit_log WHERE operation = $1 ORDER BY row_count', [
      OPERATION,
    ]);
    expect(rows.map((r) => r.who)).toEqual(['g3-user-0', 'g3-user-1', 'g3-user-3']);
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0]![0]).toMatchObject({ who: 'bad\u0000subject', queryHash: 'hash-2' });
    expect(error.mock.calls[0]![1]).toBe('audit log write failed');
  });
});
