import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basicAuth, startEmulator } from './emulator-client.ts';

let sn: Awaited<ReturnType<typeof startEmulator>>;
beforeEach(async () => {
  sn = await startEmulator();
});
afterEach(async () => {
  await sn.emulator.close();
});

const device = {
  className: 'cmdb_ci_iot',
  values: { name: 'dev-42', serial_number: 'SN-00042-A', ip_address: '10.20.0.42', firmware_version: '1.0' },
  lookup: [
    {
      className: 'cmdb_serial_number',
      values: { serial_number: 'SN-00042-A', serial_number_type: 'manufacturer' },
    },
  ],
};
const gateway = {
  className: 'cmdb_ci_iot_gateway',
  values: { name: 'gw-berlin-07', serial_number: 'GW-7-0001' },
};
const payload = {
  items: [device, gateway],
  relations: [{ parent: 1, child: 0, type: 'Connects to::Connected by' }],
};
const reconcile = (body: unknown, path = '/api/now/identifyreconcile', source = 'IoTHub') =>
  sn.call('POST', `${path}?sysparm_data_source=${source}`, { body });

describe('POST /api/now/identifyreconcile', () => {
  it('inserts new CIs and their relation, reporting every Hardware Rule attempt', async () => {
    const res = await reconcile(payload);
    expect(res.status).toBe(200);
    const { items, relations, additionalCommittedItems, additionalCommittedRelations } = res.json.result;
    expect(additionalCommittedItems).toEqual([]);
    expect(additionalCommittedRelations).toEqual([]);
    expect(items.map((i: { operation: string }) => i.operation)).toEqual(['INSERT', 'INSERT']);
    expect(items[0]).toMatchObject({
      className: 'cmdb_ci_iot',
      inputIndices: [0],
      errorCount: 0,
      markers: [],
      mergedPayloadIds: [],
    });
    expect(items[0].sysId).toMatch(/^[0-9a-f]{32}$/);
    expect(
      items[0].identificationAttempts.map((a: { attemptResult: string; searchOnTable: string }) => [
        a.searchOnTable,
        a.attemptResult,
      ]),
    ).toEqual([
      ['cmdb_serial_number', 'NO_MATCH'],
      ['cmdb_ci_hardware', 'NO_MATCH'],
      ['cmdb_ci_hardware', 'NO_MATCH'],
    ]);
    expect(relations).toEqual([
      {
        className: 'cmdb_rel_ci',
        operation: 'INSERT',
        markers: [],
        inputIndices: [0],
        mergedPayloadIds: [],
        errorCount: 0,
      },
    ]);
    const stored = sn.emulator.record('cmdb_ci_iot', items[0].sysId);
    expect(stored).toMatchObject({
      name: 'dev-42',
      discovery_source: 'IoTHub',
      sys_class_name: 'cmdb_ci_iot',
    });
    expect(stored?.last_discovered).not.toBe('');
    expect(sn.emulator.records('cmdb_rel_ci')[0]).toMatchObject({
      parent: items[1].sysId,
      child: items[0].sysId,
    });
  });

  it('the same payload again is NO_CHANGE with the same sys_ids; a changed value is UPDATE', async () => {
    const first = (await reconcile(payload)).json.result;
    const again = (await reconcile(payload)).json.result;
    expect(again.items.map((i: { operation: string }) => i.operation)).toEqual(['NO_CHANGE', 'NO_CHANGE']);
    expect(again.items.map((i: { sysId: string }) => i.sysId)).toEqual(
      first.items.map((i: { sysId: string }) => i.sysId),
    );
    expect(again.relations[0].operation).toBe('NO_CHANGE');
    expect(again.items[0].identificationAttempts.at(-1)).toMatchObject({
      attemptResult: 'MATCHED',
      searchOnTable: 'cmdb_serial_number',
    });
    const updated = (
      await reconcile({ items: [{ ...device, values: { ...device.values, firmware_version: '1.1' } }] })
    ).json.result;
    expect(updated.items[0].operation).toBe('UPDATE');
    expect(sn.emulator.record('cmdb_ci', first.items[0].sysId)?.firmware_version).toBe('1.1');
  });

  it('matches by serial_number, then by name, skipping attempts that lack attributes', async () => {
    const existing = sn.emulator.insert('cmdb_ci_iot', { name: 'dev-7' });
    const res = (await reconcile({ items: [{ className: 'cmdb_ci_iot', values: { name: 'dev-7' } }] })).json
      .result;
    expect(res.items[0].sysId).toBe(existing.sys_id);
    expect(
      res.items[0].identificationAttempts.map((a: { attemptResult: string }) => a.attemptResult),
    ).toEqual(['SKIPPED', 'SKIPPED', 'MATCHED']);
  });

  it('upgrades a hardware CI to the sent child class', async () => {
    const existing = sn.emulator.insert('cmdb_ci_hardware', { name: 'dev-8', serial_number: 'S8' });
    const res = (await reconcile({ items: [{ className: 'cmdb_ci_iot', values: { serial_number: 'S8' } }] }))
      .json.result;
    expect(res.items[0]).toMatchObject({ operation: 'UPDATE_WITH_UPGRADE', sysId: existing.sys_id });
    expect(sn.emulator.record('cmdb_ci_iot', existing.sys_id)?.sys_class_name).toBe('cmdb_ci_iot');
  });

  it('/query is a dry run: same answer shape, nothing written', async () => {
    const res = (await reconcile(payload, '/api/now/identifyreconcile/query')).json.result;
    expect(res.items.map((i: { operation: string; sysId: string }) => [i.operation, i.sysId])).toEqual([
      ['INSERT', 'Unknown'],
      ['INSERT', 'Unknown'],
    ]);
    expect(sn.emulator.records('cmdb_ci')).toHaveLength(0);
  });

  it.each([
    ['no data source', ''],
    ['an unknown data source', 'Nope'],
  ])('reports %s inside each item, with HTTP 200', async (_, source) => {
    const res = await reconcile({ items: [device] }, '/api/now/identifyreconcile', source);
    expect(res.status).toBe(200);
    expect(res.json.result.items[0]).toMatchObject({ sysId: 'Unknown', errorCount: 1 });
    expect(res.json.result.items[0].errors[0].message).toMatch(/data source/);
    expect(sn.emulator.records('cmdb_ci')).toHaveLength(0);
  });

  it.each([
    ['MISSING_MATCHING_ATTRIBUTES', { className: 'cmdb_ci_iot', values: { ip_address: '10.0.0.1' } }],
    ['IDENTIFICATION_RULE_MISSING', { className: 'cmdb_ci', values: { name: 'x' } }],
    ['INVALID_INPUT_DATA', { className: 'cmdb_ci_nope', values: { name: 'x' } }],
  ])('reports %s per item', async (code, item) => {
    const res = (await reconcile({ items: [item] })).json.result;
    expect(res.items[0].errors[0].error).toBe(code);
    expect(res.items[0].errorCount).toBe(1);
  });

  it('rejects a payload whose items duplicate each other: nothing is written', async () => {
    const res = (await reconcile({ items: [gateway, device, device] })).json.result;
    expect(res.items[2].errors[0]).toEqual({
      error: 'DUPLICATE_PAYLOAD_RECORDS',
      message:
        'Found duplicate items in the payload (index 1 and 2), using className [cmdb_ci_iot] and fields [serial_number, serial_number_type]. Remove duplicate items from payload',
    });
    expect(res.items[0].errors[0].error).toBe('ABANDONED');
    expect(res.items[1].errors[0].error).toBe('ABANDONED');
    expect(sn.emulator.records('cmdb_ci')).toHaveLength(0);
  });

  it('flags two items that identify one stored CI through different identifier entries', async () => {
    await reconcile({ items: [gateway] });
    const byName = {
      className: 'cmdb_ci_iot_gateway',
      values: { name: 'gw-berlin-07', ip_address: '10.0.0.9' },
    };
    const res = (await reconcile({ items: [gateway, byName] })).json.result;
    expect(res.items[1].errors[0].error).toBe('DUPLICATE_PAYLOAD_RECORDS');
    expect(sn.emulator.records('cmdb_ci')[0]?.ip_address).toBe('');
  });

  it('commits nothing when one item is malformed, on the real endpoint and the dry run alike', async () => {
    for (const path of ['/api/now/identifyreconcile', '/api/now/identifyreconcile/query']) {
      const res = await reconcile(
        { items: [gateway, null, { className: 'cmdb_ci_iot', values: 'x' }] },
        path,
      );
      expect(res.status).toBe(200);
      const { items } = res.json.result;
      expect(items.map((i: { errors: Array<{ error: string }> }) => i.errors[0]?.error)).toEqual([
        'ABANDONED',
        'INVALID_INPUT_DATA',
        'INVALID_INPUT_DATA',
      ]);
      expect(items[0]).toMatchObject({ sysId: 'Unknown', errorCount: 1 });
    }
    expect(sn.emulator.records('cmdb_ci')).toHaveLength(0);
  });

  it('refuses a reference to a sys_id that does not exist, and accepts an existing one', async () => {
    const missing = 'f'.repeat(32);
    const bad = { className: 'cmdb_ci_iot', values: { name: 'dev-9', location: missing } };
    const res = (await reconcile({ items: [gateway, bad] })).json.result;
    expect(res.items[1].errors[0]).toEqual({
      error: 'INVALID_INPUT_DATA',
      message: `Found invalid sys_id in payload. No record with sys_id [${missing}] exist in table [cmn_location] or is a duplicate record with [duplicate_of] field set to a main CI`,
    });
    expect(sn.emulator.records('cmdb_ci')).toHaveLength(0);
    const site = sn.emulator.insert('cmn_location', { name: 'Berlin' });
    const good = { ...bad, values: { ...bad.values, location: site.sys_id } };
    expect((await reconcile({ items: [good] })).json.result.items[0].operation).toBe('INSERT');
    expect(sn.emulator.records('cmdb_ci_iot')[0]?.location).toBe(site.sys_id);
  });

  it('refuses a reference to a CI marked as a duplicate of another (duplicate_of set)', async () => {
    const main = sn.emulator.insert('cmdb_ci_iot_gateway', { name: 'gw-main', serial_number: 'GW-M' });
    const dup = sn.emulator.insert('cmdb_ci_iot_gateway', {
      name: 'gw-dup',
      serial_number: 'GW-D',
      duplicate_of: main.sys_id,
    });
    const pointing = { className: 'cmdb_ci_iot', values: { name: 'dev-8', duplicate_of: dup.sys_id } };
    const res = (await reconcile({ items: [gateway, pointing] })).json.result;
    expect(res.items[1].errors[0]).toEqual({
      error: 'INVALID_INPUT_DATA',
      message: `Found invalid sys_id in payload. No record with sys_id [${dup.sys_id}] exist in table [cmdb_ci] or is a duplicate record with [duplicate_of] field set to a main CI`,
    });
    expect(sn.emulator.records('cmdb_ci_iot')).toHaveLength(0);
    const toMain = { ...pointing, values: { ...pointing.values, duplicate_of: main.sys_id } };
    expect((await reconcile({ items: [toMain] })).json.result.items[0].operation).toBe('INSERT');
  });

  it('refuses a lookup of a class the Hardware Rule has no lookup entry for: nothing is written', async () => {
    const withNic = {
      ...device,
      lookup: [{ className: 'cmdb_ci_network_adapter', values: { mac_address: '00:11:22:33:44:55' } }],
    };
    const res = (await reconcile({ items: [gateway, withNic] })).json.result;
    expect(res.items[1].errors[0]).toEqual({
      error: 'IDENTIFICATION_RULE_FOR_LOOKUP_MISSING',
      message:
        'Identity Rule for table [cmdb_ci_hardware] missing Lookup Rule for class [cmdb_ci_network_adapter]',
    });
    expect(res.items[0].errors[0].error).toBe('ABANDONED');
    expect(sn.emulator.records('cmdb_ci')).toHaveLength(0);
  });

  it.each([
    [{ parent: 2, child: 0 }, 'invalid parent record index: [2]'],
    [{ parent: 1, child: -1 }, 'invalid child record index: [-1]'],
    [{ parent: 1, child: 0.5 }, 'invalid child record index: [0.5]'],
    [{ parent_id: 'nope', child: 0 }, 'invalid parent record index: [nope]'],
  ])('validates relation indexes %j: nothing is written', async (ends, text) => {
    const relation = { ...ends, type: 'Connects to::Connected by' };
    const res = (await reconcile({ ...payload, relations: [relation] })).json.result;
    expect(res.relations[0].errors[0].error).toBe('INVALID_INPUT_DATA');
    expect(res.relations[0].errors[0].message).toContain(text);
    expect(
      res.items.every((i: { errors: Array<{ error: string }> }) => i.errors[0]?.error === 'ABANDONED'),
    ).toBe(true);
    expect(sn.emulator.records('cmdb_ci')).toHaveLength(0);
  });

  it('refuses an unknown relation type inside the relation result', async () => {
    const res = (
      await reconcile({ ...payload, relations: [{ parent: 1, child: 0, type: 'Likes::Liked by' }] })
    ).json.result;
    expect(res.relations[0]).toMatchObject({ errorCount: 1, errors: [{ error: 'INVALID_INPUT_DATA' }] });
    expect(sn.emulator.records('cmdb_ci')).toHaveLength(0);
  });

  it('needs the itil or asset role', async () => {
    const roles = await startEmulator({
      users: [
        { username: 'events', password: 'pw', roles: ['evt_mgmt_integration'] },
        { username: 'assets', password: 'pw', roles: ['asset'] },
      ],
    });
    try {
      const as = (user: string) =>
        roles.call('POST', '/api/now/identifyreconcile?sysparm_data_source=IoTHub', {
          body: { items: [gateway] },
          auth: basicAuth(user, 'pw'),
        });
      const refused = await as('events');
      expect(refused.status).toBe(403);
      expect(refused.json.error).toEqual({
        message: 'User Not Authorized',
        detail: 'Failed API level ACL Validation',
      });
      expect((await as('assets')).json.result.items[0].operation).toBe('INSERT');
    } finally {
      await roles.emulator.close();
    }
  });
});
