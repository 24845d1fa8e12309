import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RatePacer } from '../../../src/itsm/rate-pacer.ts';
import { ServiceNowClient } from '../../../src/itsm/servicenow-client.ts';
import { ServiceNowError } from '../../../src/itsm/servicenow-error.ts';
import { basicAuth, startEmulator } from './emulator-client.ts';

// The roles a hub integration user gets in production (docs/servicenow-tickets.md, "Roles the hub's ServiceNow
// user needs"), each on its own user, next to the default admin.
let sn: Awaited<ReturnType<typeof startEmulator>>;
beforeAll(async () => {
  sn = await startEmulator({
    users: [
      { username: 'svc-itil', password: 'itil-pw', roles: ['itil'] },
      { username: 'svc-events', password: 'events-pw', roles: ['evt_mgmt_integration'] },
    ],
  });
});
afterAll(async () => {
  await sn.emulator.close();
});

const itil = basicAuth('svc-itil', 'itil-pw');
const events = basicAuth('svc-events', 'events-pw');
const resolution = { close_code: 'Solution provided', close_notes: 'cleared' };

const createIncident = async (auth = itil, body: Record<string, unknown> = { short_description: 'x' }) => {
  const res = await sn.call('POST', '/api/now/table/incident', { auth, body });
  expect(res.status).toBe(201);
  return res.json.result.sys_id as string;
};

describe('users, roles and ACLs', () => {
  it('an itil user creates, updates and resolves incidents but may not close them', async () => {
    const id = await createIncident();
    const patch = (body: Record<string, unknown>, auth = itil) =>
      sn.call('PATCH', `/api/now/table/incident/${id}`, { auth, body });
    expect((await patch({ work_notes: 'checked' })).status).toBe(200);
    const closed = await patch({ state: '7', ...resolution });
    expect(closed.status).toBe(403);
    expect(closed.json).toEqual({
      error: {
        message: 'Operation Failed',
        detail: 'ACL Exception Update Failed due to security constraints',
      },
      status: 'failure',
    });
    expect((await patch({ incident_state: '7', ...resolution })).status).toBe(403);
    expect(sn.emulator.record('incident', id)?.state).toBe('1');
    expect((await patch({ state: '6', ...resolution })).status).toBe(200);
    expect(sn.emulator.record('incident', id)?.state).toBe('6');
    // admin may close what itil resolved.
    expect((await patch({ state: '7' }, basicAuth('admin', 'admin'))).status).toBe(200);
    expect(sn.emulator.record('incident', id)?.active).toBe('false');
  });

  it('refuses an itil user a create in state Closed and a delete', async () => {
    const create = await sn.call('POST', '/api/now/table/incident', {
      auth: itil,
      body: { short_description: 'x', state: '7', ...resolution },
    });
    expect(create.status).toBe(403);
    expect(create.json.error.detail).toBe('ACL Exception Insert Failed due to security constraints');
    const id = await createIncident();
    expect((await sn.call('DELETE', `/api/now/table/incident/${id}`, { auth: itil })).status).toBe(403);
    expect(sn.emulator.record('incident', id)).toBeDefined();
  });

  it('keeps sys_journal_field from an itil user; the incident display value still shows the notes', async () => {
    const id = await createIncident(itil, { short_description: 'x', work_notes: 'marker-1' });
    const journal = await sn.call('GET', `/api/now/table/sys_journal_field?sysparm_query=element_id=${id}`, {
      auth: itil,
    });
    expect(journal.status).toBe(403);
    const notes = await sn.call(
      'GET',
      `/api/now/table/incident/${id}?sysparm_fields=work_notes&sysparm_display_value=true`,
      { auth: itil },
    );
    expect(notes.json.result.work_notes).toContain('marker-1');
    const admin = await sn.call('GET', `/api/now/table/sys_journal_field?sysparm_query=element_id=${id}`);
    expect(admin.json.result).toHaveLength(1);
  });

  it('sends events only with evt_mgmt_integration, which does not open incidents', async () => {
    const body = { records: [{ source: 'IoTHub', node: 'n1', type: 't', severity: '4', message_key: 'k1' }] };
    const refused = await sn.call('POST', '/api/global/em/jsonv2', { auth: itil, body });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toEqual({
      message: 'User Not Authorized',
      detail: 'Failed API level ACL Validation',
    });
    expect((await sn.call('POST', '/api/global/em/jsonv2', { auth: events, body })).status).toBe(200);
    expect(sn.emulator.records('em_alert').map((a) => a.message_key)).toContain('k1');
    expect((await sn.call('GET', '/api/now/table/incident', { auth: events })).status).toBe(403);
  });

  it('issues OAuth password-grant tokens to every user, acting with that user’s roles', async () => {
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: 'hub',
      client_secret: 'hub-secret',
      username: 'svc-itil',
      password: 'itil-pw',
    });
    const token = await fetch(`${sn.emulator.url}/oauth_token.do`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form,
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const bearer = `Bearer ${token.access_token}`;
    expect((await sn.call('GET', '/api/now/table/incident?sysparm_limit=1', { auth: bearer })).status).toBe(
      200,
    );
    expect((await sn.call('GET', '/api/now/table/sys_journal_field', { auth: bearer })).status).toBe(403);
  });

  it('refuses two users with the same name', async () => {
    await expect(startEmulator({ users: [{ username: 'admin', password: 'other' }] })).rejects.toThrow(
      /defined twice/,
    );
  });
});

describe('the hub client as an itil-only user', () => {
  const client = () =>
    new ServiceNowClient({
      url: sn.emulator.url,
      auth: { mode: 'basic', username: 'svc-itil', password: 'itil-pw', clientId: '', clientSecret: '' },
      timeoutMs: 5000,
      pacer: new RatePacer(),
    });

  it('runs the ticket lifecycle: search, open, work note, confirm the note, resolve', async () => {
    const hub = client();
    const seen = sn.emulator.requests().length;
    const correlationId = 'iothub:lifecycle-1:temperature:above';
    expect(await hub.findOpenIncident(correlationId)).toBeNull();
    const created = await hub.createIncident({
      short_description: 'too hot',
      correlation_id: correlationId,
      work_notes: 'opened (iot-hub alert 1 rev 1)',
    });
    expect(await hub.findOpenIncident(correlationId)).toMatchObject({ sysId: created.sysId });
    expect(await hub.hasWorkNote(created.sysId, '(iot-hub alert 1 rev 1)')).toBe(true);
    expect(await hub.hasWorkNote(created.sysId, '(iot-hub alert 1 rev 2)')).toBe(false);
    await hub.updateIncident(created.sysId, { work_notes: 'repeat (iot-hub alert 1 rev 2)' });
    expect(await hub.hasWorkNote(created.sysId, '(iot-hub alert 1 rev 2)')).toBe(true);
    const resolved = await hub.updateIncident(created.sysId, {
      state: '6',
      ...resolution,
      work_notes: 'Auto-resolved by IoT hub (iot-hub alert 1 rev 3)',
    });
    expect(resolved.state).toBe('6');
    expect(await hub.findOpenIncident(correlationId)).toBeNull();
    // No request of the lifecycle was refused: the hub needs nothing beyond itil.
    const lifecycle = sn.emulator.requests().slice(seen);
    expect(lifecycle.length).toBeGreaterThanOrEqual(9);
    expect(lifecycle.filter((r) => r.user !== 'svc-itil' || r.status >= 400)).toEqual([]);
  });

  it('finds its own incident when another one’s correlation id differs only in case', async () => {
    const hub = client();
    const upper = 'iothub:Pump1:pressure:above';
    const lower = 'iothub:pump1:pressure:above';
    const first = await hub.createIncident({ short_description: 'Pump1', correlation_id: upper });
    // The instance's case-insensitive search sees the Pump1 incident; the hub must not adopt it for pump1.
    const listed = await sn.call(
      'GET',
      `/api/now/table/incident?sysparm_query=${encodeURIComponent(`correlation_id=${lower}`)}`,
      { auth: itil },
    );
    expect(listed.json.result).toHaveLength(1);
    expect(await hub.findOpenIncident(lower)).toBeNull();
    const second = await hub.createIncident({ short_description: 'pump1', correlation_id: lower });
    expect(second.sysId).not.toBe(first.sysId);
    expect((await hub.findOpenIncident(upper))?.sysId).toBe(first.sysId);
    expect((await hub.findOpenIncident(lower))?.sysId).toBe(second.sysId);
  });

  it('reports a deleted incident as not_found when confirming a note', async () => {
    const hub = client();
    const error = await hub.hasWorkNote('0'.repeat(32), '(iot-hub alert 9 rev 1)').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceNowError);
    expect((error as ServiceNowError).kind).toBe('not_found');
  });
});
