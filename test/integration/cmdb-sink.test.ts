import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { CmdbSink, CmdbSinkStore, startCmdbSink } from '../../src/cdc/index.ts';
import { defaultConfig, type HubConfig } from '../../src/config/index.ts';
import { createKnex, type Knex } from '../../src/db/index.ts';
import {
  type ServiceNowEmulator,
  type ServiceNowEmulatorOptions,
  startServiceNowEmulator,
} from '../../src/devtools/servicenow/index.ts';
import { recreateItsmDatabase } from '../support/itsm-database.ts';

// The ServiceNow CMDB sink (docs/servicenow-cmdb.md) against the in-process emulator, with an itil-only
// integration user, on its own database: devices in dw.dim_device, their state in hub.device_state.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const irePath = '/api/now/identifyreconcile';
const logger = pino({ level: 'silent' });

let databaseUrl: string;
let knex: Knex;
let sn: ServiceNowEmulator | undefined;

beforeAll(async () => {
  databaseUrl = await recreateItsmDatabase(inject('serverUrl'), 'iot_hub_test_cmdb_sink');
  knex = createKnex(databaseUrl, 6);
});

afterEach(async () => {
  await sn?.close();
  sn = undefined;
  await knex.raw('TRUNCATE hub.cmdb_sink_state, hub.device_state');
  await knex.raw('DELETE FROM dw.dim_device WHERE device_sk > 0');
});

afterAll(async () => {
  await knex?.destroy();
});

async function emulator(options: ServiceNowEmulatorOptions = {}): Promise<ServiceNowEmulator> {
  sn = await startServiceNowEmulator({
    users: [
      { username: 'cmdb-sync', password: 'pw', roles: ['itil'] },
      { username: 'asset-sync', password: 'pw', roles: ['asset'] },
      { username: 'events-only', password: 'pw', roles: ['evt_mgmt_integration'] },
    ],
    ...options,
  });
  return sn;
}

function config(settings: Partial<HubConfig['cmdbSink']> = {}, username = 'cmdb-sync'): HubConfig {
  if (!sn) throw new Error('start the emulator first');
  return {
    ...structuredClone(defaultConfig),
    file: null,
    database: { url: databaseUrl, poolMax: 4 },
    servicenow: { url: sn.url, auth: { ...defaultConfig.servicenow.auth, username, password: 'pw' } },
    cmdbSink: {
      ...defaultConfig.cmdbSink,
      callsPerSecond: 50,
      retryBaseSeconds: 1,
      retryMaxSeconds: 1,
      requestTimeoutMs: 2000,
      ...settings,
    },
  };
}

const sink = (c: HubConfig, owner?: string) => new CmdbSink(c, knex, { logger, owner });

const deviceId = (i: number) => `dev-${String(i).padStart(4, '0')}`;

/** Current MDM rows for devices 1..n, and an online state for each. */
async function seedDevices(n: number, from = 1): Promise<void> {
  const ids = Array.from({ length: n }, (_, k) => deviceId(from + k));
  await knex.raw(
    `INSERT INTO dw.dim_device (device_nk, serial_number, model, manufacturer, firmware_version, lifecycle_status,
                                valid_from, row_hash, source_system)
     SELECT id, 'SN-' || id, 'TX-100', 'Acme', '1.0.0', 'active', now() - interval '1 day', '\\x01', 'mdm'
     FROM unnest(?::text[]) AS id`,
    [ids],
  );
  await knex.raw(
    `INSERT INTO hub.device_state (device_id, status, status_changed_at, last_seen_at, last_received_at,
                                   firmware_version, battery_pct, health)
     SELECT id, 'online', now(), '2026-12-01 10:07:31+00', now(), '1.0.0', 87.4, 'ok'
     FROM unnest(?::text[]) AS id`,
    [ids],
  );
}

const ireCalls = () => (sn?.requests() ?? []).filter((r) => r.method === 'POST' && r.path === irePath);
const cis = () => sn?.records('cmdb_ci_iot') ?? [];
const stateOf = (id: string) => knex('hub.cmdb_sink_state').where({ device_id: id }).first();

describe('CMDB sink', () => {
  it('creates one CI per device in batches, and sends nothing again while nothing changed', async () => {
    await emulator();
    await seedDevices(120);
    const first = await sink(config()).runPass();
    expect(first).toMatchObject({ synced: 120, failed: 0, calls: 3, stoppedEarly: false });
    expect(ireCalls().map((r) => r.status)).toEqual([200, 200, 200]);
    expect(cis()).toHaveLength(120);
    const one = cis().find((c) => c.name === 'dev-0007');
    expect(one).toMatchObject({
      serial_number: 'SN-dev-0007',
      model_number: 'TX-100',
      firmware_version: '1.0.0',
      operational_status: '1',
      install_status: '1',
      u_last_seen: '2026-12-01 10:00:00', // rounded down to 15 minutes
      u_battery_pct: '87',
      u_health: 'ok',
      discovery_source: 'IoTHub',
      sys_created_by: 'cmdb-sync',
    });
    expect((await stateOf('dev-0007'))?.ci_sys_id).toBe(one?.sys_id);

    const again = await sink(config()).runPass();
    expect(again).toMatchObject({ synced: 0, failed: 0, calls: 0 });
    expect(ireCalls()).toHaveLength(3);
    expect(cis()).toHaveLength(120);
    expect(cis().every((c) => c.sys_mod_count === '0')).toBe(true);
  });

  it('updates only the CI whose health changed', async () => {
    await emulator();
    await seedDevices(10);
    await sink(config()).runPass();
    await knex('hub.device_state')
      .where({ device_id: 'dev-0003' })
      .update({ status: 'offline', health: 'failed', battery_pct: 12 });
    // A newer reading within the same 15 minutes is no CI change.
    await knex('hub.device_state')
      .where({ device_id: 'dev-0004' })
      .update({ last_seen_at: '2026-12-01 10:14:59+00' });
    const r = await sink(config()).runPass();
    expect(r).toMatchObject({ synced: 1, calls: 1 });
    const changed = cis().find((c) => c.name === 'dev-0003');
    expect(changed).toMatchObject({
      operational_status: '2',
      u_health: 'failed',
      u_battery_pct: '12',
      sys_mod_count: '1',
    });
    expect(
      cis()
        .filter((c) => c.sys_mod_count !== '0')
        .map((c) => c.name),
    ).toEqual(['dev-0003']);
    expect(cis()).toHaveLength(10);
  });

  it('spaces IRE calls to the configured calls per second', async () => {
    await emulator();
    await seedDevices(50);
    const r = await sink(config({ batchSize: 10, callsPerSecond: 4 })).runPass();
    expect(r).toMatchObject({ synced: 50, calls: 5 });
    // Arrival times at the emulator: the sink starts a call every 250 ms; network jitter shifts single arrivals.
    const at = ireCalls().map((c) => c.at);
    expect(at).toHaveLength(5);
    expect((at[4] as number) - (at[0] as number)).toBeGreaterThanOrEqual(4 * 250 - 50);
    for (let i = 1; i < at.length; i++)
      expect((at[i] as number) - (at[i - 1] as number)).toBeGreaterThanOrEqual(150);
  });

  it('works with the asset role alone; a user without itil or asset gets the 403 recorded on every device', async () => {
    await emulator();
    await seedDevices(3);
    const refused = await sink(config({}, 'events-only')).runPass();
    expect(refused).toMatchObject({ synced: 0, failed: 3, stoppedEarly: true });
    expect((await stateOf('dev-0001'))?.last_error).toBe(
      'POST /api/now/identifyreconcile: 403 User Not Authorized: Failed API level ACL Validation',
    );
    await waitUntil(async () => (await stateOf('dev-0001'))?.next_attempt_at <= new Date());
    const byAsset = await sink(config({}, 'asset-sync')).runPass();
    expect(byAsset).toMatchObject({ synced: 3, failed: 0 });
  });

  it('isolates an item ServiceNow refuses with a 4xx, records its error, and sends it at once when fixed', async () => {
    // 8 KiB per call: a device whose firmware string is larger makes every call that carries it a 400.
    await emulator({ maxContentLength: 8192 });
    await seedDevices(12);
    await knex('hub.device_state')
      .where({ device_id: 'dev-0005' })
      .update({ firmware_version: `9.${'x'.repeat(9000)}` });
    const r = await sink(config({ batchSize: 6 })).runPass();
    expect(r).toMatchObject({ synced: 11, failed: 1, stoppedEarly: false });
    expect(cis().map((c) => c.name)).not.toContain('dev-0005');
    const failed = await stateOf('dev-0005');
    expect(failed?.attempts).toBe(1);
    expect(failed?.last_error).toMatch(
      /^POST \/api\/now\/identifyreconcile: 400 Exception while reading request: Rejected large REST payload with content-length = \d+ bytes\. Max allowed: 8192 bytes\.$/,
    );

    // Past its back-off (1 s) it is tried again, and fails again.
    await waitUntil(async () => (await stateOf('dev-0005'))?.next_attempt_at <= new Date());
    expect(await sink(config({ batchSize: 6 })).runPass()).toMatchObject({ synced: 0, failed: 1, calls: 1 });
    expect((await stateOf('dev-0005'))?.attempts).toBe(2);

    // Fixed at the source: sent on the next pass without waiting for its back-off.
    await knex('hub.cmdb_sink_state')
      .where({ device_id: 'dev-0005' })
      .update({ next_attempt_at: knex.raw("now() + interval '1 hour'") });
    await knex('hub.device_state').where({ device_id: 'dev-0005' }).update({ firmware_version: '9.0.1' });
    expect(await sink(config({ batchSize: 6 })).runPass()).toMatchObject({ synced: 1, failed: 0 });
    expect(cis().find((c) => c.name === 'dev-0005')?.firmware_version).toBe('9.0.1');
    expect(await stateOf('dev-0005')).toMatchObject({ attempts: 0, last_error: null });
    expect(cis()).toHaveLength(12);
  });

  it('records per-item IRE errors with their text and retries them after the back-off', async () => {
    await emulator();
    await seedDevices(4);
    const backoff = { retryBaseSeconds: 3, retryMaxSeconds: 3 };
    const wrong = await sink(config({ ...backoff, dataSource: 'IotHubTypo' })).runPass();
    expect(wrong).toMatchObject({ synced: 0, failed: 4, calls: 1 });
    // Not before its back-off…
    expect(await sink(config(backoff)).runPass()).toMatchObject({ calls: 0 });
    expect((await stateOf('dev-0002'))?.last_error).toBe(
      'INVALID_INPUT_DATA: In payload invalid data source [IotHubTypo] exist. You need to provide choice value from choice field [discovery_source] in table [cmdb_ci]',
    );
    const status = await runCli(['cmdb', 'status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('4 device(s): 0 in sync, 4 pending (4 failed)');
    expect(status.stdout).toMatch(
      /dev-0002: attempt 1 failed, next attempt \S+Z: INVALID_INPUT_DATA: In payload invalid data source \[IotHubTypo\]/,
    );
    // …and after it.
    await waitUntil(async () => (await stateOf('dev-0002'))?.next_attempt_at <= new Date());
    expect(await sink(config()).runPass()).toMatchObject({ synced: 4, failed: 0 });
    expect(await new CmdbSinkStore(knex, { lastSeenResolutionSeconds: 900 }).status()).toMatchObject({
      devices: 4,
      synced: 4,
      pending: 0,
      failed: 0,
      failures: [],
    });
  });

  it('holds back devices that share a serial number and syncs the others', async () => {
    await emulator();
    await seedDevices(5);
    await knex('dw.dim_device').where({ device_nk: 'dev-0004' }).update({ serial_number: 'SN-dev-0002' });
    const r = await sink(config()).runPass();
    expect(r).toMatchObject({ synced: 3, failed: 2 });
    expect((await stateOf('dev-0004'))?.last_error).toBe(
      "serial_number 'SN-dev-0002' is also the serial of dev-0002: IRE identifies CIs by serial number and would merge these devices into one CI; correct the serial in MDM",
    );
    await knex('dw.dim_device').where({ device_nk: 'dev-0004' }).update({ serial_number: 'SN-dev-0004' });
    expect(await sink(config()).runPass()).toMatchObject({ synced: 2, failed: 0 });
    expect(
      cis()
        .map((c) => c.serial_number)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5].map((i) => `SN-${deviceId(i)}`));
  });

  it('keeps every device through 503s, a dead instance and lost answers, then syncs each once', async () => {
    const down = await emulator({ faults: { serverError: { rate: 1, statuses: [503] } } });
    await seedDevices(30);
    const c = config({ batchSize: 10 });
    const during = await sink(c).runPass();
    expect(during).toMatchObject({ synced: 0, failed: 10, calls: 1, stoppedEarly: true });
    expect((await stateOf('dev-0001'))?.last_error).toMatch(
      /^POST \/api\/now\/identifyreconcile: 503 text\/html/,
    );
    // The other 20 were given back untouched.
    expect(await knex('hub.cmdb_sink_state').whereNull('last_error').count({ n: '*' })).toEqual([{ n: 20 }]);

    // Dead: nothing listens on the port.
    await down.close();
    sn = undefined;
    expect(await sink(c).runPass()).toMatchObject({ synced: 0, stoppedEarly: true });
    expect((await stateOf('dev-0011'))?.last_error).toMatch(/ECONNREFUSED/);

    // Back on the same port, but the first answer is lost after IRE committed it.
    sn = await startServiceNowEmulator({
      port: Number(new URL(down.url).port),
      users: [{ username: 'cmdb-sync', password: 'pw', roles: ['itil'] }],
      faults: { lostResponse: { rate: 1, times: 1, mode: 'reset' } },
    });
    await waitUntil(async () => {
      const due = await knex('hub.cmdb_sink_state')
        .where('next_attempt_at', '>', new Date())
        .count({ n: '*' });
      return Number(due[0]?.n) === 0;
    });
    const lost = await sink(c).runPass();
    expect(lost.stoppedEarly).toBe(true);
    await waitUntil(async () => {
      const due = await knex('hub.cmdb_sink_state')
        .where('next_attempt_at', '>', new Date())
        .count({ n: '*' });
      return Number(due[0]?.n) === 0;
    });
    const after = await sink(c).runPass();
    expect(after).toMatchObject({ failed: 0, stoppedEarly: false });
    expect(cis()).toHaveLength(30);
    expect(new Set(cis().map((x) => x.serial_number)).size).toBe(30);
    expect(await knex('hub.cmdb_sink_state').whereNotNull('last_error').count({ n: '*' })).toEqual([
      { n: 0 },
    ]);
  });

  it('the hub stage syncs at start and again on its interval, and stops cleanly', async () => {
    await emulator();
    await seedDevices(3);
    const running = await startCmdbSink(config({ intervalSeconds: 1 }), { logger, knex });
    try {
      await waitUntil(async () => cis().length === 3);
      await knex('hub.device_state').where({ device_id: 'dev-0002' }).update({ health: 'degraded' });
      await waitUntil(async () => cis().find((c) => c.name === 'dev-0002')?.u_health === 'degraded');
    } finally {
      await running.stop();
    }
    expect(cis()).toHaveLength(3);
  });

  it('two hub processes share the work: every device is sent once', async () => {
    await emulator();
    await seedDevices(200);
    const [a, b] = await Promise.all([
      sink(config({ batchSize: 20 }), 'hub-a').runPass(),
      sink(config({ batchSize: 20 }), 'hub-b').runPass(),
    ]);
    expect(a.synced + b.synced).toBe(200);
    expect(a.failed + b.failed).toBe(0);
    expect(a.calls + b.calls).toBe(10);
    expect(cis()).toHaveLength(200);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin/iot-hub.js'), ...args],
      { cwd: repoRoot, env: { ...process.env, DATABASE_URL: databaseUrl, HUB_CONFIG: '' } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
