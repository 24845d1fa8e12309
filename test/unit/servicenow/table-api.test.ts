import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from './emulator-client.ts';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
let sn: Emulator;

beforeEach(async () => {
  sn = await startEmulator();
});
afterEach(async () => {
  await sn.emulator.close();
});

describe('Table API: create', () => {
  it('answers 201 with Location and the full record, every value a string', async () => {
    const res = await sn.call('POST', '/api/now/v2/table/incident', {
      body: {
        short_description: 'dev-42 hot',
        impact: 2,
        urgency: 2,
        correlation_id: 'iothub:dev-42:overtemp',
      },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    const record = res.json.result;
    expect(record.sys_id).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.get('location')).toBe(`${sn.emulator.url}/api/now/table/incident/${record.sys_id}`);
    expect(record).toMatchObject({ impact: '2', urgency: '2', priority: '3', state: '1', active: 'true' });
    expect(record.sys_created_on).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(record.sys_mod_count).toBe('0');
    for (const value of Object.values(record)) {
      if (typeof value !== 'string')
        expect(value).toEqual({ link: expect.any(String), value: expect.any(String) });
    }
  });

  it('writes dates in UTC', async () => {
    const fixed = Date.UTC(2026, 2, 20, 14, 5, 11);
    const utc = await startEmulator({ now: () => fixed });
    try {
      const res = await utc.call('POST', '/api/now/table/incident', { body: { short_description: 'x' } });
      expect(res.json.result.sys_created_on).toBe('2026-03-20 14:05:11');
      expect(res.json.result.opened_at).toBe('2026-03-20 14:05:11');
    } finally {
      await utc.emulator.close();
    }
  });

  it('ignores unknown columns and system columns in the body', async () => {
    const res = await sn.call('POST', '/api/now/table/incident', {
      body: { short_description: 'x', u_not_a_column: 'y', sys_id: 'f'.repeat(32), sys_mod_count: '9' },
    });
    expect(res.json.result.u_not_a_column).toBeUndefined();
    expect(res.json.result.sys_id).not.toBe('f'.repeat(32));
    expect(res.json.result.sys_mod_count).toBe('0');
  });

  it('processes only the first record of an array', async () => {
    const res = await sn.call('POST', '/api/now/table/incident', {
      body: [{ short_description: 'first' }, { short_description: 'second' }],
    });
    expect(res.json.result.short_description).toBe('first');
    expect(sn.emulator.records('incident')).toHaveLength(1);
  });

  it('suppresses the body with X-no-response-body', async () => {
    const res = await sn.call('POST', '/api/now/table/incident', {
      body: { short_description: 'x' },
      headers: { 'X-no-response-body': 'true' },
    });
    expect(res.status).toBe(201);
    expect(res.text).toBe('');
  });

  it('refuses malformed JSON and oversized bodies with the documented 400s', async () => {
    const bad = await sn.call('POST', '/api/now/table/incident', {
      text: '{"short_description":',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      error: { message: 'Exception while reading request', detail: 'The payload is not valid JSON.' },
      status: 'failure',
    });
    const small = await startEmulator({ maxContentLength: 100 });
    try {
      const big = await small.call('POST', '/api/now/table/incident', {
        body: { description: 'x'.repeat(200) },
      });
      expect(big.status).toBe(400);
      expect(big.json.error.detail).toMatch(
        /^Rejected large REST payload with content-length = \d+ bytes. Max allowed: 100 bytes.$/,
      );
    } finally {
      await small.emulator.close();
    }
  });
});

describe('Table API: read, update, delete', () => {
  const create = async (body: Record<string, unknown> = { short_description: 'x' }) =>
    (await sn.call('POST', '/api/now/table/incident', { body })).json.result;

  it('reads one record, and answers the documented 404 for an unknown sys_id', async () => {
    const created = await create();
    const found = await sn.call('GET', `/api/now/table/incident/${created.sys_id}`);
    expect(found.status).toBe(200);
    expect(found.json.result.number).toBe(created.number);
    const missing = await sn.call('GET', `/api/now/table/incident/${'0'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      error: {
        message: 'No Record found',
        detail: "Record doesn't exist or ACL restricts the record retrieval",
      },
      status: 'failure',
    });
  });

  it('answers 400 "Invalid table" for an unknown table', async () => {
    const res = await sn.call('GET', '/api/now/table/sys_user_groups');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: { message: 'Invalid table sys_user_groups', detail: null },
      status: 'failure',
    });
  });

  it.each(['PATCH', 'PUT'])('%s is a partial update that bumps sys_mod_count', async (method) => {
    const created = await create({ short_description: 'before', description: 'kept' });
    const res = await sn.call(method, `/api/now/table/incident/${created.sys_id}`, {
      body: { short_description: 'after' },
    });
    expect(res.status).toBe(200);
    expect(res.json.result).toMatchObject({
      short_description: 'after',
      description: 'kept',
      sys_mod_count: '1',
    });
  });

  it('leaves sys_mod_count alone when an update changes nothing', async () => {
    const created = await create({ short_description: 'same' });
    const res = await sn.call('PATCH', `/api/now/table/incident/${created.sys_id}`, {
      body: { short_description: 'same' },
    });
    expect(res.json.result.sys_mod_count).toBe('0');
  });

  it('answers 404 for PATCH and DELETE of an unknown sys_id', async () => {
    const id = '1'.repeat(32);
    expect((await sn.call('PATCH', `/api/now/table/incident/${id}`, { body: {} })).status).toBe(404);
    expect((await sn.call('DELETE', `/api/now/table/incident/${id}`)).status).toBe(404);
  });

  it('DELETE answers 204 with an empty body', async () => {
    const created = await create();
    const res = await sn.call('DELETE', `/api/now/table/incident/${created.sys_id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(sn.emulator.record('incident', created.sys_id)).toBeUndefined();
  });

  it('HEAD answers the GET headers without a body; X-HTTP-Method-Override changes the method', async () => {
    await create();
    const head = await sn.call('HEAD', '/api/now/table/incident');
    expect(head.status).toBe(200);
    expect(head.headers.get('x-total-count')).toBe('1');
    expect(head.text).toBe('');
    const created = await create();
    const overridden = await sn.call('POST', `/api/now/table/incident/${created.sys_id}`, {
      body: { short_description: 'patched' },
      headers: { 'X-HTTP-Method-Override': 'PATCH' },
    });
    expect(overridden.status).toBe(200);
    expect(overridden.json.result.short_description).toBe('patched');
  });

  it('answers 400 for a path that names no API', async () => {
    const res = await sn.call('GET', '/api/now/nothing/here');
    expect(res.status).toBe(400);
    expect(res.json.error.message).toBe('Requested URI does not represent any resource');
  });
});

describe('Table API: versions', () => {
  it('v2 and the unversioned URL answer 200 [] for no match; v1 answers 404', async () => {
    for (const path of ['/api/now/v2/table/incident', '/api/now/table/incident']) {
      const res = await sn.call('GET', `${path}?sysparm_query=number=INC9999999`);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ result: [] });
      expect(res.headers.get('x-total-count')).toBe('0');
    }
    const v1 = await sn.call('GET', '/api/now/v1/table/incident?sysparm_query=number=INC9999999');
    expect(v1.status).toBe(404);
    expect(v1.json.error.message).toBe('No Record found');
  });
});

describe('Table API: response shaping', () => {
  const setup = async () => {
    const group = sn.emulator.insert('sys_user_group', { name: 'IoT Operations' });
    const created = await sn.call('POST', '/api/now/table/incident', {
      body: { short_description: 'x', assignment_group: group.sys_id, state: '2', impact: '1', urgency: '1' },
    });
    return { group, incident: created.json.result };
  };

  it('references default to {link, value}; an empty reference is ""', async () => {
    const { group, incident } = await setup();
    expect(incident.assignment_group).toEqual({
      link: `${sn.emulator.url}/api/now/table/sys_user_group/${group.sys_id}`,
      value: group.sys_id,
    });
    expect(incident.assigned_to).toBe('');
  });

  it.each([
    ['sysparm_exclude_reference_link=true', (g: string) => g, '2'],
    [
      'sysparm_display_value=true',
      () => ({ display_value: 'IoT Operations', link: expect.any(String) }),
      'In Progress',
    ],
    ['sysparm_display_value=true&sysparm_exclude_reference_link=true', () => 'IoT Operations', 'In Progress'],
    [
      'sysparm_display_value=all',
      (g: string) => ({ display_value: 'IoT Operations', link: expect.any(String), value: g }),
      { display_value: 'In Progress', value: '2' },
    ],
  ])('%s shapes references and choices', async (params, group, state) => {
    const { group: g, incident } = await setup();
    const res = await sn.call('GET', `/api/now/table/incident/${incident.sys_id}?${params}`);
    expect(res.json.result.assignment_group).toEqual(group(g.sys_id));
    expect(res.json.result.state).toEqual(state);
  });

  it('sysparm_fields picks columns, ignores unknown names and dot-walks references', async () => {
    const { incident } = await setup();
    const res = await sn.call(
      'GET',
      `/api/now/table/incident/${incident.sys_id}?sysparm_fields=number,nope,assignment_group.name,priority`,
    );
    expect(res.json.result).toEqual({
      number: incident.number,
      'assignment_group.name': 'IoT Operations',
      priority: '1',
    });
  });

  it('name=value pairs filter like a query and accept display values', async () => {
    await setup();
    await sn.call('POST', '/api/now/table/incident', { body: { short_description: 'other' } });
    const byValue = await sn.call('GET', '/api/now/table/incident?state=2');
    const byLabel = await sn.call('GET', '/api/now/table/incident?state=In%20Progress');
    expect(byValue.json.result).toHaveLength(1);
    expect(byLabel.json.result).toHaveLength(1);
  });

  it('sysparm_input_display_value=true resolves references and choices given by display value', async () => {
    await setup();
    const res = await sn.call('POST', '/api/now/table/incident?sysparm_input_display_value=true', {
      body: { assignment_group: 'IoT Operations', category: 'Hardware' },
    });
    expect(res.json.result.assignment_group.value).toMatch(/^[0-9a-f]{32}$/);
    expect(res.json.result.category).toBe('hardware');
  });

  it('a CI of a child class is a row of cmdb_ci, shown with cmdb_ci columns only', async () => {
    const device = await sn.call('POST', '/api/now/table/cmdb_ci_iot', {
      body: { name: 'dev-42', serial_number: 'SN-42', firmware_version: '1.2' },
    });
    expect(device.json.result.sys_class_name).toBe('cmdb_ci_iot');
    const asCi = await sn.call('GET', `/api/now/table/cmdb_ci/${device.json.result.sys_id}`);
    expect(asCi.json.result.name).toBe('dev-42');
    expect(asCi.json.result.firmware_version).toBeUndefined();
    const hardware = await sn.call('GET', '/api/now/table/cmdb_ci_hardware?sysparm_query=name=dev-42');
    expect(hardware.json.result[0].firmware_version).toBe('1.2');
  });
});
