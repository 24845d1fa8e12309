import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from './emulator-client.ts';

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

  it('flags two items of one payload that identify the same CI', async () => {
    const res = (await reconcile({ items: [device, device] })).json.result;
    expect(res.items[0].errorCount).toBe(0);
    expect(res.items[1].errors[0].error).toBe('DUPLICATE_PAYLOAD_RECORDS');
    expect(sn.emulator.records('cmdb_ci_iot')).toHaveLength(1);
  });

  it('refuses an unknown relation type inside the relation result', async () => {
    const res = (
      await reconcile({ ...payload, relations: [{ parent: 1, child: 0, type: 'Likes::Liked by' }] })
    ).json.result;
    expect(res.relations[0]).toMatchObject({ errorCount: 1, errors: [{ error: 'INVALID_INPUT_DATA' }] });
  });
});
