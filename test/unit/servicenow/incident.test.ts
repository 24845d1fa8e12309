import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from './emulator-client.ts';

let sn: Awaited<ReturnType<typeof startEmulator>>;
beforeEach(async () => {
  sn = await startEmulator();
});
afterEach(async () => {
  await sn.emulator.close();
});

const create = async (body: Record<string, unknown> = {}) =>
  (await sn.call('POST', '/api/now/v2/table/incident', { body: { short_description: 'x', ...body } })).json
    .result;
const patch = (sysId: string, body: Record<string, unknown>) =>
  sn.call('PATCH', `/api/now/v2/table/incident/${sysId}`, { body });

describe('incident numbers', () => {
  it('start at INC0010001 and count up; task_effective_number repeats the number', async () => {
    const first = await create();
    const second = await create();
    expect([first.number, second.number]).toEqual(['INC0010001', 'INC0010002']);
    expect(first.task_effective_number).toBe('INC0010001');
  });
});

describe('priority from impact × urgency', () => {
  it.each([
    ['1', '1', '1'],
    ['1', '2', '2'],
    ['1', '3', '3'],
    ['2', '1', '2'],
    ['2', '2', '3'],
    ['2', '3', '4'],
    ['3', '1', '3'],
    ['3', '2', '4'],
    ['3', '3', '5'],
  ])('impact %s, urgency %s → priority %s', async (impact, urgency, priority) => {
    expect((await create({ impact, urgency })).priority).toBe(priority);
  });

  it('is read-only: a sent priority is replaced (POST priority 3 with 3/3 comes back 5)', async () => {
    const incident = await create({ impact: '3', urgency: '3', priority: 3 });
    expect(incident.priority).toBe('5');
    const res = await patch(incident.sys_id, { priority: '1' });
    expect(res.json.result.priority).toBe('5');
  });

  it('follows an escalation of impact and urgency', async () => {
    const incident = await create({ impact: '2', urgency: '2' });
    const res = await patch(incident.sys_id, { impact: '1', urgency: '1' });
    expect(res.json.result).toMatchObject({ impact: '1', urgency: '1', priority: '1' });
  });
});

describe('state model', () => {
  it('defaults to New, active, with opened_at and opened_by the API user', async () => {
    const incident = await create();
    expect(incident).toMatchObject({ state: '1', incident_state: '1', active: 'true' });
    expect(incident.opened_at).not.toBe('');
    expect(incident.opened_by.value).toBe('6816f79cc0a8016401c5a33be04be441');
  });

  it('refuses Resolved without close_code and close_notes with the data-policy 403', async () => {
    const incident = await create();
    const res = await patch(incident.sys_id, { state: '6' });
    expect(res.status).toBe(403);
    expect(res.json.status).toBe('failure');
    expect(res.json.error.detail).toBe(
      'Data Policy Exception: The following fields are mandatory: Resolution code, Resolution notes',
    );
    const onlyCode = await patch(incident.sys_id, { state: '6', close_code: 'Solution provided' });
    expect(onlyCode.json.error.detail).toBe(
      'Data Policy Exception: The following fields are mandatory: Resolution notes',
    );
    expect(sn.emulator.record('incident', incident.sys_id)?.state).toBe('1');
  });

  it('resolves with close_code and close_notes: stays active, stamps resolved_at/by', async () => {
    const incident = await create();
    const res = await patch(incident.sys_id, {
      state: '6',
      close_code: 'Solution provided',
      close_notes: 'cleared',
    });
    expect(res.status).toBe(200);
    expect(res.json.result).toMatchObject({
      state: '6',
      incident_state: '6',
      active: 'true',
      close_code: 'Solution provided',
    });
    expect(res.json.result.resolved_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(res.json.result.resolved_by.value).toBe('6816f79cc0a8016401c5a33be04be441');
  });

  it('closing sets closed_at/by and active=false; cancel sets active=false', async () => {
    const incident = await create();
    const closed = await patch(incident.sys_id, { state: '7', close_code: 'Duplicate', close_notes: 'dup' });
    expect(closed.json.result).toMatchObject({ state: '7', active: 'false' });
    expect(closed.json.result.closed_at).not.toBe('');
    expect(closed.json.result.resolved_at).not.toBe('');
    const other = await create();
    expect((await patch(other.sys_id, { state: '8' })).json.result).toMatchObject({
      state: '8',
      active: 'false',
    });
  });

  it('reopening from Resolved counts reopen_count and clears the resolution stamps', async () => {
    const incident = await create();
    await patch(incident.sys_id, { state: '6', close_code: 'Solution provided', close_notes: 'n' });
    const reopened = await patch(incident.sys_id, { state: '2' });
    expect(reopened.json.result).toMatchObject({
      state: '2',
      active: 'true',
      reopen_count: '1',
      resolved_at: '',
    });
    expect(reopened.json.result.reopened_time).not.toBe('');
  });

  it('without the data policy, Resolved needs no close fields', async () => {
    const lax = await startEmulator({ resolutionDataPolicy: false });
    try {
      const incident = (await lax.call('POST', '/api/now/table/incident', { body: {} })).json.result;
      const res = await lax.call('PATCH', `/api/now/table/incident/${incident.sys_id}`, {
        body: { state: '6' },
      });
      expect(res.status).toBe(200);
    } finally {
      await lax.emulator.close();
    }
  });

  it('publishes the close codes in sys_choice', async () => {
    const res = await sn.call(
      'GET',
      '/api/now/table/sys_choice?sysparm_query=name=incident^element=close_code^inactive=false&sysparm_fields=value,label',
    );
    expect(res.json.result).toContainEqual({ value: 'Solution provided', label: 'Solution provided' });
  });
});

describe('journal', () => {
  it('work_notes and comments go to sys_journal_field and read back as ""', async () => {
    const incident = await create({ work_notes: 'opened by hub' });
    expect(incident.work_notes).toBe('');
    const res = await patch(incident.sys_id, { work_notes: 'repeat alert', comments: 'customer note' });
    expect(res.json.result).toMatchObject({ work_notes: '', comments: '', sys_mod_count: '1' });
    expect(sn.emulator.journal(incident.sys_id, 'work_notes').map((e) => e.value)).toEqual([
      'opened by hub',
      'repeat alert',
    ]);
    const entries = await sn.call(
      'GET',
      `/api/now/table/sys_journal_field?sysparm_query=element_id=${incident.sys_id}^element=work_notes^ORDERBYsys_created_on`,
    );
    expect(entries.json.result.map((e: { value: string }) => e.value)).toEqual([
      'opened by hub',
      'repeat alert',
    ]);
    expect(entries.json.result[0]).toMatchObject({
      element: 'work_notes',
      name: 'incident',
      element_id: incident.sys_id,
    });
  });

  it('every write appends, so a retried PATCH duplicates its note', async () => {
    const incident = await create();
    await patch(incident.sys_id, { work_notes: 'same' });
    await patch(incident.sys_id, { work_notes: 'same' });
    expect(sn.emulator.journal(incident.sys_id, 'work_notes')).toHaveLength(2);
  });

  it('the display value of a journal column is its history, newest first', async () => {
    const incident = await create({ work_notes: 'one' });
    await patch(incident.sys_id, { work_notes: 'two' });
    const res = await sn.call(
      'GET',
      `/api/now/table/incident/${incident.sys_id}?sysparm_display_value=true&sysparm_fields=work_notes`,
    );
    expect(res.json.result.work_notes).toMatch(
      /^.+ - System Administrator \(Work notes\)\ntwo\n\n.+ - System Administrator \(Work notes\)\none\n\n$/,
    );
  });
});
