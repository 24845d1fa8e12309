import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tokenCommand } from '../../src/cli/token.ts';
import { type ServiceNowEmulator, startServiceNowEmulator } from '../../src/devtools/servicenow/index.ts';
import { freshDatabase, seedWarehouse, startTestApi, type TestApi } from './graphql-harness.ts';

// The hub as an Apollo Federation 2 subgraph (docs/graphql.md, "Federation"): its SDL with the @key entities,
// _entities resolved through the DataLoaders under the same governance, and one query joining a device with
// its CMDB CI, its live ServiceNow incidents and its maintenance events. Tokens come from `iot-hub token`'s
// function, signed with a local secret file of this test's own.

let api: TestApi;
const cacheHome = mkdtempSync(path.join(tmpdir(), 'h1-fed-'));
let sn: ServiceNowEmulator;

async function bearer(role: string, sites?: string[]): Promise<Record<string, string>> {
  const out: string[] = [];
  const code = await tokenCommand(
    { role, sites, ttl: '10m', subject: `fed-${role}`, policyFile: 'schema/policy.yaml' },
    (l) => out.push(l),
    () => {},
  );
  expect(code).toBe(0);
  return { authorization: `Bearer ${out[0]}` };
}

beforeAll(async () => {
  delete process.env.HUB_GRAPHQL_JWT_SECRET;
  process.env.XDG_CACHE_HOME = cacheHome;
  const url = await freshDatabase(inject('serverUrl'), 'iot_hub_test_h1_federation');
  sn = await startServiceNowEmulator({ port: 0 });
  api = await startTestApi(url, { servicenowUrl: sn.url });
  await seedWarehouse(api.db, { devices: 4, readings: 1, readingsEnd: new Date() });
  const caller = sn.records('sys_user').find((u) => u.user_name === 'admin')!;
  const { rows } = await api.db.query<{ id: string; device_id: string }>(
    'SELECT id, device_id FROM hub.alert',
  );
  for (const alert of rows) {
    const incident = sn.insert('incident', {
      short_description: `temperature high on ${alert.device_id}`,
      caller_id: caller.sys_id,
    });
    await api.db.query(
      `UPDATE hub.alert SET ticket_sys_id = $2, ticket_number = $3, ticket_state = 'acknowledged' WHERE id = $1`,
      [alert.id, incident.sys_id, incident.number],
    );
  }
});

afterAll(async () => {
  await api?.close();
  rmSync(cacheHome, { recursive: true, force: true });
  await sn?.close();
});

describe('the hub as a federation subgraph', () => {
  it('publishes its SDL with the federation link and @key on Site, Asset and Device', async () => {
    const { status, data, errors } = await api.post('{ _service { sdl } }', {}, await bearer('admin'));
    expect(errors).toBeUndefined();
    expect(status).toBe(200);
    const sdl: string = data._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])');
    expect(sdl).toContain('type Site @key(fields: "id")');
    expect(sdl).toContain('type Asset @key(fields: "id")');
    expect(sdl).toContain('type Device @key(fields: "id")');
    // The classification stays visible to the supergraph's owners.
    expect(sdl).toContain('serialNumber: String @classified(level: CONFIDENTIAL)');
  });

  it('resolves _entities through the DataLoaders: one statement for all devices of a request', async () => {
    const representations = [
      { __typename: 'Device', id: 'dev-001' },
      { __typename: 'Device', id: 'dev-002' },
      { __typename: 'Device', id: 'dev-404' },
      { __typename: 'Asset', id: 'M1' },
      { __typename: 'Site', id: 'S2' },
    ];
    api.db.statements = [];
    const { data, errors } = await api.post(
      `query ($representations: [_Any!]!) { _entities(representations: $representations) {
         __typename
         ... on Device { id serialNumber asset { id } }
         ... on Asset { id name level }
         ... on Site { id name } } }`,
      { representations },
      await bearer('admin'),
    );
    expect(errors).toBeUndefined();
    expect(data._entities).toEqual([
      { __typename: 'Device', id: 'dev-001', serialNumber: 'SN-001', asset: { id: 'M1' } },
      { __typename: 'Device', id: 'dev-002', serialNumber: 'SN-002', asset: { id: 'M2' } },
      null,
      { __typename: 'Asset', id: 'M1', name: 'Asset M1', level: 'asset' },
      { __typename: 'Site', id: 'S2', name: 'Asset S2' },
    ]);
    const deviceReads = api.db.statements.filter((s) => s.includes('dw.dim_device'));
    expect(deviceReads).toHaveLength(1);
  });

  it('applies the role to entities: a viewer of S2 gets null for an S1 device, an analyst a masked serial', async () => {
    const query = `{ _entities(representations: [{ __typename: "Device", id: "dev-001" }, { __typename: "Device", id: "dev-002" }]) {
      ... on Device { id serialNumber } } }`;
    const viewer = await api.post(query, {}, await bearer('viewer', ['S2']));
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data._entities).toEqual([null, { id: 'dev-002', serialNumber: 'SN-002' }]);
    const analyst = await api.post(query, {}, await bearer('analyst'));
    expect(analyst.data._entities[0].serialNumber).toMatch(/^sha256:[0-9a-f]{16}$/);
  });

  it('joins a device with its CMDB CI, its live ServiceNow incidents and its maintenance events in one query', async () => {
    const { data, errors } = await api.post(
      `{ device(id: "dev-003") {
          id
          configurationItem { name className operationalStatus }
          incidents { number shortDescription caller state }
          maintenanceEvents { type status workOrderNumber technician }
        } }`,
      {},
      await bearer('admin'),
    );
    expect(errors).toBeUndefined();
    expect(data.device).toEqual({
      id: 'dev-003',
      configurationItem: { name: 'CI dev-003', className: 'cmdb_ci_iot', operationalStatus: 'operational' },
      incidents: [
        {
          number: expect.stringMatching(/^INC\d+$/),
          shortDescription: 'temperature high on dev-003',
          caller: 'System Administrator',
          state: expect.any(String),
        },
      ],
      maintenanceEvents: [
        { type: 'calibration', status: 'completed', workOrderNumber: 'WO-dev-003', technician: 'Jane Doe' },
      ],
    });
  });
});
