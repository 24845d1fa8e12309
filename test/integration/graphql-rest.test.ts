import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tokenCommand } from '../../src/cli/token.ts';
import { freshDatabase, seedWarehouse, startTestApi, type TestApi } from './graphql-harness.ts';

// REST for BI tools (docs/graphql.md, "REST for BI tools"): the queries of schema/rest/operations.graphql as
// GET /rest/<name> in JSON or CSV, through the same authentication, field policy, limits and audit as /graphql.

let api: TestApi;
const cacheHome = mkdtempSync(path.join(tmpdir(), 'h1-rest-'));
let base: string;

async function bearer(role: string, sites?: string[]): Promise<Record<string, string>> {
  const out: string[] = [];
  await tokenCommand(
    { role, sites, ttl: '10m', subject: `rest-${role}`, policyFile: 'schema/policy.yaml' },
    (l) => out.push(l),
    () => {},
  );
  return { authorization: `Bearer ${out[0]}` };
}

async function auditRow(operation: string, who: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await api.db.query(
      'SELECT * FROM hub.audit_log WHERE operation = $1 AND who = $2 ORDER BY id DESC LIMIT 1',
      [operation, who],
    );
    if (rows[0]) return rows[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no audit row for operation ${operation} by ${who}`);
}

beforeAll(async () => {
  delete process.env.HUB_GRAPHQL_JWT_SECRET;
  process.env.XDG_CACHE_HOME = cacheHome;
  const url = await freshDatabase(inject('serverUrl'), 'iot_hub_test_h1_rest');
  api = await startTestApi(url);
  base = api.url.replace(/\/graphql$/, '');
  await seedWarehouse(api.db, { devices: 4, readings: 1, readingsEnd: new Date() });
  // A name a spreadsheet would run as a formula.
  await api.db.query(`UPDATE dw.dim_asset SET asset_name = '=HYPERLINK("http://x")' WHERE asset_nk = 'M2'`);
});

afterAll(async () => {
  await api?.close();
  rmSync(cacheHome, { recursive: true, force: true });
});

describe('REST for BI tools', () => {
  it('lists its operations with their variables', async () => {
    const res = await fetch(`${base}/rest`);
    const body = (await res.json()) as { operations: { name: string; csv: string; variables: object }[] };
    expect(body.operations.map((o) => o.name)).toEqual(['sites', 'devices', 'alerts', 'maintenanceEvents']);
    expect(body.operations[1]).toMatchObject({
      csv: '/rest/devices.csv',
      variables: { underAsset: 'ID', first: 'Int' },
    });
  });

  it('answers JSON under the role: an analyst gets masked serial numbers, and the call is audited', async () => {
    const res = await fetch(`${base}/rest/devices?first=2`, { headers: await bearer('analyst') });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { devices: { id: string; serialNumber: string }[] } };
    expect(body.data.devices.map((d) => d.id)).toEqual(['dev-001', 'dev-002']);
    expect(body.data.devices[0]!.serialNumber).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(await auditRow('devices', 'rest-analyst')).toMatchObject({
      role: 'analyst',
      outcome: 'ok',
      classifications: ['CONFIDENTIAL', 'OPERATIONAL', 'PUBLIC'],
    });
  });

  it("answers CSV with flattened columns, filtered to a viewer's sites (.csv suffix or Accept: text/csv)", async () => {
    const viewer = await bearer('viewer', ['S1']);
    const bySuffix = await fetch(`${base}/rest/devices.csv`, { headers: viewer });
    expect(bySuffix.status).toBe(200);
    expect(bySuffix.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await bySuffix.text();
    expect(text.split('\r\n')).toEqual([
      'id,model,manufacturer,firmwareVersion,lifecycleStatus,serialNumber,asset.id,asset.name,asset.site.id,asset.site.name',
      'dev-001,TX-1,,2.0,active,SN-001,M1,Asset M1,S1,Asset S1',
      'dev-003,TX-1,,1.0,active,SN-003,M1,Asset M1,S1,Asset S1',
      '',
    ]);
    const byAccept = await fetch(`${base}/rest/devices`, { headers: { ...viewer, accept: 'text/csv' } });
    expect(await byAccept.text()).toBe(text);
  });

  it('neutralises cells a spreadsheet would run as formulas', async () => {
    const res = await fetch(`${base}/rest/devices.csv?underAsset=M2`, { headers: await bearer('admin') });
    const lines = (await res.text()).split('\r\n');
    expect(lines[1]).toBe('dev-002,TX-1,,1.0,active,SN-002,M2,"\'=HYPERLINK(""http://x"")",S2,Asset S2');
  });

  it('leaves a denied field empty in CSV and names it in x-graphql-errors', async () => {
    const from = new Date(Date.now() - 7 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const res = await fetch(`${base}/rest/maintenanceEvents.csv?from=${from}&to=${to}`, {
      headers: await bearer('bi-service'),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-graphql-error-count')).toBe('4');
    expect(res.headers.get('x-graphql-errors')).toBe(
      "Field MaintenanceEvent.technician is classified PII, which role 'bi-service' may not read.",
    );
    const [header, first] = (await res.text()).split('\r\n');
    expect(header).toBe(
      'id,type,status,startedAt,finishedAt,workOrderNumber,technician,device.id,asset.id,asset.name',
    );
    expect(first).toMatch(/^\d+,calibration,completed,[^,]+,,WO-dev-\d{3},,dev-\d{3},M\d,/);
  });

  it('refuses bad input with a message a person can act on, and no credentials with 401', async () => {
    const admin = await bearer('admin');
    const cases: [string, number, string][] = [
      ['/rest/devices?first=abc', 400, "parameter 'first' must be a whole number, got 'abc'"],
      [
        '/rest/devices?site=S1',
        400,
        "unknown parameter 'site'; /rest/devices takes underAsset: ID, first: Int",
      ],
      ['/rest/maintenanceEvents', 400, 'Variable "$from" of required type "DateTime!" was not provided.'],
      [
        '/rest/alerts?status=burning',
        400,
        'Variable "$status" got invalid value "burning" at "status[0]"; Value "burning" does not exist in "AlertStatus" enum.',
      ],
    ];
    for (const [url, status, message] of cases) {
      const res = await fetch(`${base}${url}`, { headers: admin });
      expect([url, res.status]).toEqual([url, status]);
      expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(message);
    }
    const anonymous = await fetch(`${base}/rest/sites.csv`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(
      /^Authentication required\./,
    );
    const post = await fetch(`${base}/rest/sites`, { method: 'POST', headers: admin });
    expect(post.status).toBe(405);
  });

  it("applies the role's limits: more rows than the role may ask for is a 400", async () => {
    const res = await fetch(`${base}/rest/devices.csv?first=20000`, { headers: await bearer('analyst') });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(
      "Argument first of devices asks for 20000 rows, more than the limit of 10000 rows for role 'analyst'.",
    );
  });
});
