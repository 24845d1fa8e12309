import { SignJWT } from 'jose';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DimensionCache, dimensionChannel } from '../../src/graphql/dimension-cache.ts';
import { freshDatabase, seedWarehouse, startTestApi, type TestApi } from './graphql-harness.ts';

// The GraphQL stage's shared dimension cache (docs/graphql.md, "Dimension cache"): a repeated hop costs no
// statement, a change to a dimension row is seen by the next request (the table's trigger notifies), and rows are
// kept per row scope, so a principal limited to some sites never gets a row another principal's request cached.
const SECRET = 'dimension-cache-secret-of-at-least-32-bytes';
process.env.HUB_GRAPHQL_JWT_SECRET = SECRET;

let api: TestApi;
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('cache-test')
    .setIssuer('iot-hub-idp')
    .setAudience('iot-hub-graphql')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
let admin: Record<string, string>;

beforeAll(async () => {
  const url = await freshDatabase(inject('serverUrl'), 'iot_hub_test_graphql_dimension_cache');
  api = await startTestApi(url);
  await seedWarehouse(api.db, { devices: 4, readings: 3, readingsEnd: new Date() });
  admin = { authorization: `Bearer ${await token({ hub_role: 'admin' })}` };
});

afterAll(async () => {
  await api?.close();
});

const deviceQuery = `{ device(id: "dev-002") { firmwareVersion asset { name site { name } } } }`;
const dimensionStatements = () => api.db.statements.filter((s) => /FROM dw\.dim_(device|asset)\b/.test(s));

describe('dimension cache', () => {
  it('answers a repeated hop from the cache, and the next request after a change sees the new row', async () => {
    api.db.statements = [];
    const first = await api.post(deviceQuery, {}, admin);
    expect(first.errors).toBeUndefined();
    expect(first.data.device).toEqual({
      firmwareVersion: '1.0',
      asset: { name: 'Asset M2', site: { name: 'Asset S2' } },
    });
    expect(dimensionStatements().length).toBeGreaterThanOrEqual(2); // the device, its asset, the site

    api.db.statements = [];
    const again = await api.post(deviceQuery, {}, admin);
    expect(again.data.device).toEqual(first.data.device);
    expect(dimensionStatements()).toEqual([]);

    // A correction written straight to the warehouse, as the CDC merge does: the statement's trigger notifies.
    await api.db.query(
      `UPDATE dw.dim_device SET firmware_version = '9.9' WHERE device_nk = 'dev-002' AND is_current`,
    );
    const deadline = Date.now() + 5000;
    let seen = again.data.device.firmwareVersion as string;
    while (seen !== '9.9' && Date.now() < deadline) {
      seen = (await api.post(deviceQuery, {}, admin)).data.device.firmwareVersion;
      if (seen !== '9.9') await new Promise((r) => setTimeout(r, 20));
    }
    // Well inside the cache's 60 s age limit: the notification dropped the row.
    expect(seen).toBe('9.9');
  });

  it('keeps rows per row scope: a viewer of S1 does not get the S2 device an admin request cached', async () => {
    const cached = await api.post(deviceQuery, {}, admin);
    expect(cached.data.device).not.toBeNull();
    const viewer = { authorization: `Bearer ${await token({ hub_role: 'viewer', hub_sites: ['S1'] })}` };
    const hidden = await api.post(
      '{ device(id: "dev-002") { id } mine: device(id: "dev-001") { id } }',
      {},
      viewer,
    );
    expect(hidden.errors).toBeUndefined();
    expect(hidden.data).toEqual({ device: null, mine: { id: 'dev-001' } });
  });
});

describe('DimensionCache over time', () => {
  const logger = pino({ level: 'silent' });
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  });
  afterAll(() => pool?.end());

  const until = async (what: string, check: () => boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const settle = () => new Promise((r) => setImmediate(r));

  it('stops caching when its LISTEN connection dies, and starts again empty once it is back', async () => {
    const cache = new DimensionCache({ pool, logger });
    await cache.start();
    try {
      expect(cache.active).toBe(true);
      cache.cacheMap<string, string>('dim_device', 'current', null)!.set('dev-x', Promise.resolve('row'));
      await settle();
      expect(cache.cacheMap<string, string>('dim_device', 'current', null)!.settled('dev-x')).toEqual({
        value: 'row',
      });
      const killed = await pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query = 'LISTEN ${dimensionChannel}'`,
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      await until('the cache to turn off', () => !cache.active);
      expect(cache.cacheMap('dim_device', 'current', null)).toBeUndefined();
      // It reconnects (every 2 s) and starts empty: the row read before may be stale.
      await until('the cache to turn on again', () => cache.active);
      expect(cache.cacheMap<string, string>('dim_device', 'current', null)!.get('dev-x')).toBeUndefined();
    } finally {
      await cache.stop();
    }
  });

  it('uses an entry no longer than maxAgeMs, should a notification ever be missed', async () => {
    const cache = new DimensionCache({ pool, logger, maxAgeMs: 300 });
    await cache.start();
    try {
      const map = cache.cacheMap<string, string>('dim_asset', 'current', ['S1'])!;
      const stored = performance.now();
      map.set('M1', Promise.resolve('row'));
      expect(map.get('M1')).toBeDefined();
      await until('the entry to expire', () => map.get('M1') === undefined);
      expect(performance.now() - stored).toBeGreaterThanOrEqual(300);
    } finally {
      await cache.stop();
    }
  });
});
