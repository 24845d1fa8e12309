import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse } from 'graphql';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as graphqlAudit from '../../migrations/20261201160000_graphql_audit.ts';
import { createKnex, ensureDatabase, withDatabase } from '../../src/db/index.ts';
import {
  applyFieldPolicy,
  auditSubscription,
  authenticate,
  createApiKey,
  type GovernedContext,
  governanceOptions,
  newAuditTrail,
  type Policy,
  parsePolicy,
  siteCondition,
} from '../../src/graphql/governance/index.ts';
import { migrateDatabase } from '../../src/warehouse/index.ts';
import { freshDatabase, seedWarehouse, startTestApi, type TestApi } from './graphql-harness.ts';

// A small schema of this test's own over dw.dim_asset and a technician table, so governance is tested
// without the hub's entities: the resolvers push the row filter into SQL as every hub resolver must.

const DATABASE = 'iot_hub_g2_governance';
const E2E_DATABASE = 'iot_hub_g2_governance_e2e';
const SECRET = 'g2-integration-secret-of-at-least-32-bytes';
process.env.G2_IT_JWT_SECRET = SECRET;
// schema/policy.yaml's secret, for the case through the hub's own server.
process.env.HUB_GRAPHQL_JWT_SECRET = SECRET;
const biKey = createApiKey();

const policyText = (extra = '') => `
auth:
  jwt: { secret_env: G2_IT_JWT_SECRET, issuer: g2-idp, audience: hub, role_claim: hub_role, sites_claim: hub_sites }
  api_keys:
    - { name: powerbi, sha256: ${biKey.sha256}, role: bi_service }
defaults:
  limits: { depth: 6, max_rows: 1000 }
roles:
  admin:
    introspection: true
    classification: { PUBLIC: allow, OPERATIONAL: allow, CONFIDENTIAL: allow, PII: allow }
    limits: { depth: 6, aliases: 10, tokens: 2000, cost: 100000, max_rows: 1000 }
  analyst:
    introspection: true
    classification: { PUBLIC: allow, OPERATIONAL: allow, CONFIDENTIAL: mask, PII: mask }
    limits: { depth: 5, aliases: 3, tokens: 500, cost: 100, max_rows: 3 }
  plant_manager:
    row_filter: sites
    classification: { PUBLIC: allow, OPERATIONAL: allow, CONFIDENTIAL: allow, PII: mask }
  bi_service:
    introspection: true
    classification: { PUBLIC: allow, OPERATIONAL: allow, CONFIDENTIAL: mask, PII: deny }
${extra}`;

const typeDefs = `
type Query {
  assets(first: Int): [Asset!]!
  boom: String
}
type Asset {
  assetNk: ID! @classified(level: PUBLIC)
  name: String @classified(level: PUBLIC)
  site: String @classified(level: PUBLIC)
  criticality: String @classified(level: OPERATIONAL)
  serialNumber: String @classified(level: CONFIDENTIAL)
  technicians(first: Int): [Technician!]!
}
type Technician {
  name: String @classified(level: PII)
  phone: String @classified(level: PII)
  asset: Asset
}`;

interface Ctx extends GovernedContext {
  db: pg.Pool;
}
interface AssetRow {
  asset_nk: string;
  asset_name: string;
  site_nk: string;
  criticality: string;
}

/** Every SQL statement the resolvers ran, to show the row filter is in the SQL. */
const statements: { sql: string; values: unknown[] }[] = [];

async function query<T extends pg.QueryResultRow>(ctx: Ctx, sql: string, values: unknown[]): Promise<T[]> {
  statements.push({ sql, values });
  const { rows } = await ctx.db.query<T>(sql, values);
  ctx.audit.rows += rows.length;
  return rows;
}

const resolvers = {
  Query: {
    assets: (_: unknown, args: { first?: number }, ctx: Ctx) => {
      const filter = siteCondition(ctx.principal, 'a.site_nk', 1);
      return query<AssetRow>(
        ctx,
        `SELECT a.asset_nk, a.asset_name, a.site_nk, a.criticality FROM dw.dim_asset a
          WHERE a.is_current AND a.source_system = 'g2-test' AND ${filter.sql} ORDER BY a.asset_nk
          LIMIT ${args.first ?? 'ALL'}`,
        filter.values,
      );
    },
    boom: () => {
      throw new Error('connection to 10.20.30.40:5432 refused for user hub_rw password=hunter2');
    },
  },
  Asset: {
    assetNk: (a: AssetRow) => a.asset_nk,
    name: (a: AssetRow) => a.asset_name,
    site: (a: AssetRow) => a.site_nk,
    serialNumber: (a: AssetRow) => `SN-${a.asset_nk}`,
    technicians: (a: AssetRow, args: { first?: number }, ctx: Ctx) => {
      const filter = siteCondition(ctx.principal, 'a.site_nk', 2);
      return query(
        ctx,
        `SELECT t.name, t.phone, t.asset_nk FROM g2_it.technician t
           JOIN dw.dim_asset a ON a.asset_nk = t.asset_nk AND a.is_current
          WHERE t.asset_nk = $1 AND ${filter.sql} ORDER BY t.name LIMIT ${args.first ?? 'ALL'}`,
        [a.asset_nk, ...filter.values],
      );
    },
  },
  Technician: {
    asset: async (t: { asset_nk: string }, _: unknown, ctx: Ctx) => {
      const filter = siteCondition(ctx.principal, 'a.site_nk', 2);
      const rows = await query<AssetRow>(
        ctx,
        `SELECT a.asset_nk, a.asset_name, a.site_nk, a.criticality FROM dw.dim_asset a
          WHERE a.is_current AND a.asset_nk = $1 AND ${filter.sql}`,
        [t.asset_nk, ...filter.values],
      );
      return rows[0] ?? null;
    },
  },
};

/** Until the migration list (src/warehouse/migrate.ts) names it, the test databases get it here. */
async function applyAuditMigration(url: string): Promise<void> {
  const knex = createKnex(url, 1);
  try {
    const { rows } = await knex.raw(
      `SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'hub' AND table_name = 'audit_log' AND column_name = 'classifications'`,
    );
    if (rows.length === 0) await graphqlAudit.up(knex);
  } finally {
    await knex.destroy();
  }
}

interface Served {
  url: string;
  stop: () => Promise<void>;
}

async function serve(policy: Policy, db: pg.Pool, production: boolean): Promise<Served> {
  const schema = applyFieldPolicy(
    makeExecutableSchema({
      typeDefs: [readFileSync('schema/governance.graphql', 'utf8'), typeDefs],
      resolvers,
    }),
    policy,
  );
  const server = new ApolloServer<Ctx>({ schema, ...governanceOptions<Ctx>(policy, { db, production }) });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({
      principal: await authenticate(req.headers, policy),
      db,
      audit: newAuditTrail(),
    }),
  });
  return { url, stop: () => server.stop() };
}

const token = (claims: Record<string, unknown>, subject: string) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer('g2-idp')
    .setAudience('hub')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));

interface Answer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

async function post(
  url: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

let db: pg.Pool;
let dev: Served;
let prod: Served;
let persisted: Served;
let auth: Record<string, Record<string, string>>;
let persistedBody: string;

beforeAll(async () => {
  const url = withDatabase(inject('serverUrl'), DATABASE);
  await ensureDatabase(url);
  await migrateDatabase(url, 'up');
  await applyAuditMigration(url);
  db = new pg.Pool({ connectionString: url, max: 4 });
  await db.query(`
    DELETE FROM dw.dim_asset WHERE asset_nk LIKE 'g2-%';
    DROP SCHEMA IF EXISTS g2_it CASCADE;
    CREATE SCHEMA g2_it;
    CREATE TABLE g2_it.technician (name text, phone text, asset_nk text);
    TRUNCATE hub.audit_log;`);
  const assets = [
    ['g2-a1', 'S1'],
    ['g2-a2', 'S1'],
    ['g2-a3', 'S2'],
    ['g2-a4', 'S2'],
    ['g2-a5', 'S3'],
  ];
  for (const [nk, site] of assets)
    await db.query(
      `INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_nk, site_name, hierarchy_path, criticality,
         valid_from, row_hash, source_system)
       VALUES ($1, 'asset', 'Pump ' || $1, $2, 'Site ' || $2, text2ltree(replace($2 || '.' || $1, '-', '_')), 'high',
         '-infinity', '\\x00', 'g2-test')`,
      [nk, site],
    );
  await db.query(`INSERT INTO g2_it.technician VALUES
    ('Maria Schmidt', '+49 170 1234567', 'g2-a1'), ('Jan Novak', '+420 601 222333', 'g2-a3'),
    ('Li Wei', '+86 138 0000 1111', 'g2-a5')`);

  const dir = await mkdtemp(join(tmpdir(), 'g2-pq-'));
  persistedBody = 'query SiteAssets { assets(first: 2) { assetNk site } }';
  const id = createHash('sha256').update(persistedBody).digest('hex');
  const manifest = join(dir, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id, body: persistedBody, name: 'SiteAssets', type: 'query' }],
    }),
  );
  dev = await serve(parsePolicy(policyText(), 'policy.yaml'), db, false);
  prod = await serve(parsePolicy(policyText(), 'policy.yaml'), db, true);
  persisted = await serve(
    parsePolicy(policyText(`persisted_operations: { enabled: true, manifest: ${manifest} }`), 'policy.yaml'),
    db,
    false,
  );
  const bearer = async (claims: Record<string, unknown>, subject: string) => ({
    authorization: `Bearer ${await token(claims, subject)}`,
  });
  auth = {
    admin: await bearer({ hub_role: 'admin' }, 'ops-admin'),
    analyst: await bearer({ hub_role: 'analyst' }, 'maria.analyst'),
    manager: await bearer({ hub_role: 'plant_manager', hub_sites: ['S1'] }, 'pm.s1'),
    bi: { 'x-api-key': biKey.key },
  };
});

afterAll(async () => {
  await Promise.all([dev?.stop(), prod?.stop(), persisted?.stop()]);
  await db?.end();
  const admin = new pg.Client({ connectionString: withDatabase(inject('serverUrl'), 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`DROP DATABASE IF EXISTS ${E2E_DATABASE} WITH (FORCE)`);
  await admin.end();
});

/** Waits for the audit row of an operation (written after the response); fails after 10 s. */
async function auditRow(operation: string, pool: pg.Pool = db): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await pool.query(
      'SELECT * FROM hub.audit_log WHERE operation = $1 ORDER BY id DESC LIMIT 1',
      [operation],
    );
    if (rows[0]) return rows[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no audit row for operation ${operation}`);
}

describe('authentication', () => {
  it('answers a request without credentials with 401 and says what to send', async () => {
    const r = await post(dev.url, { query: '{ assets { name } }' });
    expect(r.status).toBe(401);
    expect(r.body.errors?.[0]).toMatchObject({
      message: "Authentication required. Send 'Authorization: Bearer <JWT>' or 'x-api-key: <API key>'.",
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('answers a forged token with 401 and records the refusal', async () => {
    const r = await post(dev.url, { query: '{ assets { name } }' }, { authorization: 'Bearer not.a.jwt' });
    expect(r.status).toBe(401);
    expect(r.body.errors?.[0]?.message).toMatch(/^Invalid token: /);
    const deadline = Date.now() + 10_000;
    let rows: unknown[] = [];
    while (rows.length === 0 && Date.now() < deadline)
      ({ rows } = await db.query(
        `SELECT who, outcome, error_codes FROM hub.audit_log WHERE who = '(unauthenticated)' AND error_message LIKE 'Invalid token:%'`,
      ));
    expect(rows[0]).toEqual({
      who: '(unauthenticated)',
      outcome: 'denied',
      error_codes: ['UNAUTHENTICATED'],
    });
  });
});

describe('classification and masking', () => {
  it('shows an analyst masked PII and hashed CONFIDENTIAL values, and audits what was read', async () => {
    const r = await post(
      dev.url,
      {
        query:
          'query AnalystTechs { assets(first: 3) { assetNk serialNumber technicians(first: 1) { name phone } } }',
      },
      auth.analyst!,
    );
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    const assets = r.body.data!.assets as { assetNk: string; serialNumber: string; technicians: unknown[] }[];
    expect(assets.map((a) => a.assetNk)).toEqual(['g2-a1', 'g2-a2', 'g2-a3']);
    expect(assets[0]!.serialNumber).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(assets[0]!.technicians).toEqual([{ name: '***dt', phone: '***67' }]);

    const row = await auditRow('AnalystTechs');
    expect(row).toMatchObject({
      who: 'maria.analyst',
      role: 'analyst',
      principal_kind: 'user',
      operation_type: 'query',
      outcome: 'ok',
      classifications: ['CONFIDENTIAL', 'PII', 'PUBLIC'],
      fields_touched: [
        'Asset.assetNk',
        'Asset.serialNumber',
        'Asset.technicians',
        'Query.assets',
        'Technician.name',
        'Technician.phone',
      ],
      row_count: 3 + 2, // three assets, then one technician row each for g2-a1 and g2-a3
      error_codes: [],
    });
    expect(row.query_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Number(row.duration_ms)).toBeGreaterThan(0);
  });

  it('gives admins the stored values', async () => {
    const r = await post(
      dev.url,
      { query: '{ assets(first: 1) { serialNumber technicians { name } } }' },
      auth.admin!,
    );
    expect(r.body.data!.assets).toEqual([
      { serialNumber: 'SN-g2-a1', technicians: [{ name: 'Maria Schmidt' }] },
    ]);
  });

  it('answers a BI service account PII field with null and FORBIDDEN, the rest of the data intact', async () => {
    const r = await post(
      dev.url,
      { query: 'query BiTechs { assets(first: 1) { assetNk technicians { name } } }' },
      auth.bi!,
    );
    expect(r.status).toBe(200);
    expect(r.body.data!.assets).toEqual([{ assetNk: 'g2-a1', technicians: [{ name: null }] }]);
    expect(r.body.errors?.[0]).toMatchObject({
      message: "Field Technician.name is classified PII, which role 'bi_service' may not read.",
      extensions: { code: 'FORBIDDEN' },
    });
    expect(await auditRow('BiTechs')).toMatchObject({
      who: 'powerbi',
      principal_kind: 'service',
      outcome: 'partial',
      error_codes: ['FORBIDDEN'],
    });
  });
});

describe('row filter', () => {
  it('shows a plant manager only the rows of their sites, filtered in SQL', async () => {
    statements.length = 0;
    const r = await post(
      dev.url,
      { query: '{ assets { assetNk site technicians { name asset { site } } } }' },
      auth.manager!,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.assets).toEqual([
      { assetNk: 'g2-a1', site: 'S1', technicians: [{ name: '***dt', asset: { site: 'S1' } }] },
      { assetNk: 'g2-a2', site: 'S1', technicians: [] },
    ]);
    expect(statements[0]!.sql).toContain('a.site_nk = ANY($1::text[])');
    expect(statements[0]!.values).toEqual([['S1']]);
  });
});

describe('limits', () => {
  it('refuses a query deeper than the role allows with 400 and the depth found', async () => {
    const q =
      '{ assets(first: 1) { technicians(first: 1) { asset { technicians(first: 1) { asset { name } } } } } }';
    const r = await post(dev.url, { query: q }, auth.analyst!);
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]).toMatchObject({
      message: "Query depth is 6, more than the limit of 5 for role 'analyst'.",
      extensions: { code: 'DEPTH_LIMIT', limit: 5, found: 6 },
    });
  });

  it('refuses a query deeper than any role allows already in validation (graphql-armor)', async () => {
    const q =
      '{ assets(first: 1) { technicians(first: 1) { asset { technicians(first: 1) { asset { technicians(first: 1) { name } } } } } } }';
    const r = await post(dev.url, { query: q }, auth.admin!);
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]).toMatchObject({
      message: 'Query depth is 7, more than the limit of 6.',
      extensions: { code: 'DEPTH_LIMIT' },
    });
  });

  it('refuses too many aliases, too high a cost and too many rows with 400', async () => {
    const aliases = await post(dev.url, { query: '{ a: boom b: boom c: boom d: boom }' }, auth.analyst!);
    expect(aliases.status).toBe(400);
    expect(aliases.body.errors?.[0]?.message).toBe(
      "Query uses 4 aliases, more than the limit of 3 aliases for role 'analyst'.",
    );

    const cost = await post(
      dev.url,
      {
        query:
          '{ assets(first: 3) { technicians(first: 3) { asset { technicians(first: 3) { name phone } } } } }',
      },
      auth.analyst!,
    );
    // 3 × (1 + 3 × (1 + (1 + 3 × (1 + 2)))) = 102: first arguments multiply their children.
    expect(cost.status).toBe(400);
    expect(cost.body.errors?.[0]).toMatchObject({
      message: "Query cost is 102, more than the limit of 100 for role 'analyst'.",
      extensions: { code: 'QUERY_TOO_COMPLEX' },
    });

    const page = await post(dev.url, { query: '{ assets(first: 10) { name } }' }, auth.analyst!);
    expect(page.status).toBe(400);
    expect(page.body.errors?.[0]?.message).toBe(
      "Argument first of assets asks for 10 rows, more than the limit of 3 rows for role 'analyst'.",
    );
  });

  it('answers a result larger than max_rows with 400 ROW_LIMIT', async () => {
    // The analyst sees all 5 assets, and max_rows is 3.
    const r = await post(dev.url, { query: 'query AllAssets { assets { name } }' }, auth.analyst!);
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]).toMatchObject({
      message:
        "Query.assets returned 5 rows, more than the limit of 3 rows for role 'analyst'; narrow the query or page with first/limit.",
      extensions: { code: 'ROW_LIMIT' },
    });
    expect(await auditRow('AllAssets')).toMatchObject({ outcome: 'rejected', error_codes: ['ROW_LIMIT'] });
  });

  it('records a refused operation in the audit log', async () => {
    await post(dev.url, { query: 'query TooMany { a: boom b: boom c: boom d: boom }' }, auth.analyst!);
    expect(await auditRow('TooMany')).toMatchObject({
      who: 'maria.analyst',
      outcome: 'rejected',
      error_codes: ['ALIAS_LIMIT'],
      row_count: 0,
    });
  });
});

describe('introspection', () => {
  it('is refused with 403 for a role without it and answered for one with it', async () => {
    const q = '{ __schema { queryType { name } } }';
    const refused = await post(dev.url, { query: q }, auth.manager!);
    expect(refused.status).toBe(403);
    expect(refused.body.errors?.[0]?.message).toBe(
      "Introspection (__schema, __type) is not allowed for role 'plant_manager'; roles allowed it: admin, analyst, bi_service.",
    );
    const answered = await post(dev.url, { query: q }, auth.bi!);
    expect(answered.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('shows BI tools the classification in field descriptions', async () => {
    const r = await post(
      dev.url,
      { query: '{ __type(name: "Technician") { fields { name description } } }' },
      auth.bi!,
    );
    expect((r.body.data!.__type as { fields: unknown[] }).fields).toContainEqual({
      name: 'phone',
      description: 'Classification: PII.',
    });
  });
});

describe('errors in production', () => {
  it('hides internal error text in production and shows it in development', async () => {
    const hidden = await post(prod.url, { query: 'query Boom { boom }' }, auth.admin!);
    expect(hidden.body.errors?.[0]).toEqual({
      message: 'Internal server error',
      locations: [{ line: 1, column: 14 }],
      path: ['boom'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(JSON.stringify(hidden.body)).not.toContain('hunter2');
    // The audit log keeps the real message for operators.
    expect(await auditRow('Boom')).toMatchObject({
      outcome: 'partial',
      error_message: 'connection to 10.20.30.40:5432 refused for user hub_rw password=hunter2',
    });

    const shown = await post(dev.url, { query: '{ boom }' }, auth.admin!);
    expect(shown.body.errors?.[0]?.message).toContain('10.20.30.40');
  });

  it('keeps the messages written for clients in production', async () => {
    const r = await post(prod.url, { query: '{ assets(first: 10) { name } }' }, auth.analyst!);
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.message).toBe(
      "Argument first of assets asks for 10 rows, more than the limit of 3 rows for role 'analyst'.",
    );
    const denied = await post(prod.url, { query: '{ assets { name } }' });
    expect(denied.status).toBe(401);
    expect(denied.body.errors?.[0]?.message).toMatch(/^Authentication required/);
  });
});

describe('persisted operations', () => {
  it('runs an operation of the manifest, by body or by id alone, and refuses any other', async () => {
    const byBody = await post(persisted.url, { query: persistedBody }, auth.admin!);
    expect(byBody.body.data!.assets).toEqual([
      { assetNk: 'g2-a1', site: 'S1' },
      { assetNk: 'g2-a2', site: 'S1' },
    ]);
    const id = createHash('sha256').update(persistedBody).digest('hex');
    const byId = await post(
      persisted.url,
      { extensions: { persistedQuery: { version: 1, sha256Hash: id } } },
      auth.admin!,
    );
    expect(byId.body.data!.assets).toHaveLength(2);

    const other = await post(
      persisted.url,
      { query: 'query Adhoc { assets(first: 2) { name } }' },
      auth.admin!,
    );
    expect(other.status).toBe(400);
    expect(other.body.errors?.[0]).toMatchObject({
      message:
        "Operation 'Adhoc' is not in the persisted operation allow-list (persisted_operations in policy.yaml); send an operation from the manifest.",
      extensions: { code: 'OPERATION_NOT_ALLOWED' },
    });
  });
});

describe('auditSubscription', () => {
  it('writes a row for a graphql-ws operation, refused or ended', async () => {
    const schema = makeExecutableSchema({
      typeDefs: [readFileSync('schema/governance.graphql', 'utf8'), typeDefs],
    });
    const audit = newAuditTrail();
    audit.rows = 7;
    auditSubscription({
      db,
      schema,
      principal: { subject: 'ws-user', role: 'analyst', kind: 'user', sites: null, claims: {} },
      document: parse('query LiveTechs { assets { technicians { phone } } }'),
      operationName: 'LiveTechs',
      audit,
      startedAt: performance.now() - 1500,
    });
    const row = await auditRow('LiveTechs');
    expect(row).toMatchObject({
      who: 'ws-user',
      outcome: 'ok',
      row_count: 7,
      classifications: ['PII'],
      fields_touched: ['Asset.technicians', 'Query.assets', 'Technician.phone'],
    });
    expect(Number(row.duration_ms)).toBeGreaterThanOrEqual(1500);
  });
});

describe("through the hub's GraphQL server and schema/policy.yaml", () => {
  let api: TestApi;
  beforeAll(async () => {
    const url = await freshDatabase(inject('serverUrl'), E2E_DATABASE);
    await applyAuditMigration(url);
    api = await startTestApi(url);
    await seedWarehouse(api.db, { devices: 4, readings: 2, readingsEnd: new Date() });
  });
  afterAll(async () => {
    await api?.close();
  });

  const hubToken = (claims: Record<string, unknown>, subject: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuer('iot-hub-idp')
      .setAudience('iot-hub-graphql')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));

  it('masks CONFIDENTIAL serial numbers for analysts, filters plant managers by site and audits', async () => {
    const analyst = { authorization: `Bearer ${await hubToken({ hub_role: 'analyst' }, 'ana')}` };
    const all = await api.post('query E2EDevices { devices { id serialNumber model } }', {}, analyst);
    expect(all.errors).toBeUndefined();
    expect(all.data.devices.map((d: { id: string }) => d.id)).toEqual([
      'dev-001',
      'dev-002',
      'dev-003',
      'dev-004',
    ]);
    expect(all.data.devices[0].serialNumber).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(all.data.devices[0].model).toBe('TX-1');
    expect(await auditRow('E2EDevices', api.db)).toMatchObject({
      who: 'ana',
      role: 'analyst',
      outcome: 'ok',
      classifications: ['CONFIDENTIAL', 'OPERATIONAL'],
      fields_touched: ['Device.id', 'Device.model', 'Device.serialNumber', 'Query.devices'],
      row_count: 4,
    });

    const manager = {
      authorization: `Bearer ${await hubToken({ hub_role: 'viewer', hub_sites: ['S1'] }, 'pm')}`,
    };
    const mine = await api.post('{ devices { id serialNumber } }', {}, manager);
    expect(mine.data.devices).toEqual([
      { id: 'dev-001', serialNumber: 'SN-001' },
      { id: 'dev-003', serialNumber: 'SN-003' },
    ]);

    const anonymous = await api.post('{ sites { name } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0]?.message).toMatch(
      /^Authentication required\. Send 'Authorization: Bearer <JWT>'/,
    );
  });
});
