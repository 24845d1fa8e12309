import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from './emulator-client.ts';

let sn: Awaited<ReturnType<typeof startEmulator>>;
beforeEach(async () => {
  sn = await startEmulator();
});
afterEach(async () => {
  await sn.emulator.close();
});

const event = (overrides: Record<string, string> = {}) => ({
  source: 'IoTHub',
  event_class: 'IoTHub hub-eu-1',
  node: 'gw-berlin-07',
  resource: 'dev-42/temp-1',
  type: 'Temperature',
  metric_name: 'temperature_c',
  message_key: 'iothub:dev-42:overtemp',
  severity: '2',
  description: 'too hot',
  time_of_event: '2026-03-20 14:05:09',
  additional_info: '{"device_id":"dev-42","value":"91.5"}',
  ...overrides,
});
const send = (records: unknown[]) => sn.call('POST', '/api/global/em/jsonv2', { body: { records } });

describe('POST /api/global/em/jsonv2', () => {
  it('answers the bulk-endpoint message and stores each event', async () => {
    const res = await send([event(), event({ message_key: 'other' })]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ result: { 'Default Bulk Endpoint': '2 events were inserted' } });
    expect(sn.emulator.records('em_event')).toHaveLength(2);
  });

  it('opens one alert per message key, updates it on repeats and binds the node to a CI', async () => {
    const ci = sn.emulator.insert('cmdb_ci_iot_gateway', { name: 'gw-berlin-07' });
    await send([event()]);
    await send([event({ severity: '1', description: 'hotter' })]);
    const alerts = sn.emulator.records('em_alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      message_key: 'iothub:dev-42:overtemp',
      state: 'Open',
      severity: '1',
      description: 'hotter',
      event_count: '2',
      cmdb_ci: ci.sys_id,
    });
    expect(
      sn.emulator.records('em_event').every((e) => e.state === 'Processed' && e.alert === alerts[0]?.sys_id),
    ).toBe(true);
  });

  it.each([
    ['severity 0', { severity: '0' }],
    ['resolution_state Closing', { resolution_state: 'Closing' }],
  ])('%s closes the open alert', async (_, close) => {
    await send([event()]);
    await send([event(close)]);
    expect(sn.emulator.records('em_alert').map((a) => a.state)).toEqual(['Closed']);
    await send([event()]);
    expect(sn.emulator.records('em_alert').map((a) => a.state)).toEqual(['Closed', 'Open']);
  });

  it('defaults the message key to source+node+type+resource+metric_name', async () => {
    await send([event({ message_key: '' })]);
    expect(sn.emulator.records('em_alert')[0]?.message_key).toBe(
      'IoTHubgw-berlin-07Temperaturedev-42/temp-1temperature_c',
    );
  });

  it('keeps an event with non-string additional_info values in Error, without an alert', async () => {
    await send([event({ additional_info: '{"CPU":100}' })]);
    expect(sn.emulator.records('em_event')[0]?.state).toBe('Error');
    expect(sn.emulator.records('em_alert')).toHaveLength(0);
  });

  it('keeps an event without severity but opens no alert', async () => {
    await send([event({ severity: '' })]);
    expect(sn.emulator.records('em_event')).toHaveLength(1);
    expect(sn.emulator.records('em_alert')).toHaveLength(0);
  });

  it('refuses a body without a records array', async () => {
    const res = await sn.call('POST', '/api/global/em/jsonv2', { body: { source: 'x' } });
    expect(res.status).toBe(400);
    expect(res.json.status).toBe('failure');
  });
});
