import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type ServiceNowEmulator, startServiceNowEmulator } from '../../src/devtools/servicenow/index.ts';
import { freshDatabase, seedWarehouse, startTestApi, type TestApi } from './graphql-harness.ts';

// Alert.incident read live from ServiceNow (the emulator): one sys_idIN request for all alerts of an answer,
// cached briefly, and an answer without incidents but with an error entry when ServiceNow is down
// (docs/graphql.md, "Entities").
vi.mock('../../src/graphql/governance/index.ts', async () =>
  (await import('./graphql-stand-in.ts')).governanceStandIn(),
);

const cacheMs = 1500;
let api: TestApi;
let sn: ServiceNowEmulator;
let snClosed = false;

beforeAll(async () => {
  const url = await freshDatabase(inject('serverUrl'), 'iot_hub_test_graphql_incidents');
  sn = await startServiceNowEmulator({ port: 0 });
  api = await startTestApi(url, { servicenowUrl: sn.url, incidentCacheMs: cacheMs });
  await seedWarehouse(api.db, { devices: 30, readings: 1, readingsEnd: new Date() });
  const caller = sn.records('sys_user').find((u) => u.user_name === 'admin')!;
  const { rows } = await api.db.query<{ id: string; device_id: string }>(
    'SELECT id, device_id FROM hub.alert',
  );
  for (const alert of rows) {
    const incident = sn.insert('incident', {
      short_description: `temperature high on ${alert.device_id}`,
      caller_id: caller.sys_id,
      correlation_id: alert.device_id,
    });
    await api.db.query(
      `UPDATE hub.alert SET ticket_sys_id = $2, ticket_number = $3, ticket_state = 'acknowledged' WHERE id = $1`,
      [alert.id, incident.sys_id, incident.number],
    );
  }
});

afterAll(async () => {
  await api?.close();
  if (!snClosed) await sn?.close();
});

const alertsWithIncidents = `{
  alerts(first: 1000) { id rule ticketNumber device { id } incident { number shortDescription caller state } } }`;
const incidentReads = () => sn.requests().filter((r) => r.route === 'GET /api/now/table/incident').length;

describe('GraphQL incidents from ServiceNow', () => {
  it('reads the incidents of all alerts in one sys_idIN request and reuses them briefly', async () => {
    sn.resetStats();
    const before = incidentReads();
    const { data, errors } = await api.post(alertsWithIncidents);
    expect(errors).toBeUndefined();
    expect(data.alerts).toHaveLength(30);
    for (const alert of data.alerts) {
      expect(alert.incident.number).toBe(alert.ticketNumber);
      expect(alert.incident.shortDescription).toBe(`temperature high on ${alert.device.id}`);
      expect(alert.incident.caller).toBe('System Administrator');
    }
    expect(incidentReads() - before).toBe(1);
    await api.post(alertsWithIncidents);
    expect(incidentReads() - before).toBe(1); // cached
  });

  it('answers the rest when ServiceNow is down, with an error entry naming it', async () => {
    await sn.close();
    snClosed = true;
    await new Promise((r) => setTimeout(r, cacheMs + 100)); // past the cache
    const { status, data, errors } = await api.post(alertsWithIncidents);
    expect(status).toBe(200);
    expect(data.alerts).toHaveLength(30);
    for (const alert of data.alerts) {
      expect(alert.rule).toBe('temperature_high');
      expect(alert.device.id).toMatch(/^dev-/);
      expect(alert.incident).toBeNull();
    }
    expect(errors).toHaveLength(30);
    expect(errors![0]).toMatchObject({
      message: expect.stringMatching(
        /^ServiceNow incident INC\d+: ServiceNow did not answer \(GET \/api\/now\/table\/incident\): /,
      ),
      path: ['alerts', expect.any(Number), 'incident'],
      extensions: { code: 'SERVICENOW_UNAVAILABLE' },
    });
  });
});
