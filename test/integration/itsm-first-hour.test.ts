import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type HubConfig } from '../../src/config/index.ts';
import { createKnex, type Knex } from '../../src/db/index.ts';
import { type ServiceNowEmulator, startServiceNowEmulator } from '../../src/devtools/servicenow/index.ts';
import { startTicketDelivery, type TicketDelivery, type TicketSettings } from '../../src/itsm/index.ts';
import { metricsRegistry } from '../../src/observability/index.ts';
import { type AlertEvent, raiseAlerts } from '../../src/quality/index.ts';
import { recreateItsmDatabase } from '../support/itsm-database.ts';

// What an ITSM administrator meets in the first hour (docs/servicenow-tickets.md): device ids ServiceNow
// cannot search for, a JSONata outbound mapping, a failed ticket to retry from the CLI, wrong credentials.
// Its own database and Redis DB index, so it never shares state with the other itsm tests.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const redisUrl = 'redis://127.0.0.1:6379/13';
/** The CLI entry; the commands are registered in src/cli/index.ts. */
const cliEntry = process.env.ITSM_TEST_CLI_ENTRY ?? join(repoRoot, 'bin/iot-hub.js');

let databaseUrl: string;
let knex: Knex;
let sn: ServiceNowEmulator | undefined;
let deliveries: TicketDelivery[] = [];
let logLines: string[] = [];
let tmp: string;

const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
);

beforeAll(async () => {
  databaseUrl = await recreateItsmDatabase(inject('serverUrl'), 'iot_hub_test_itsm_first_hour');
  knex = createKnex(databaseUrl, 6);
  tmp = mkdtempSync(join(tmpdir(), 'itsm-first-hour-'));
});

afterEach(async () => {
  for (const d of deliveries) await d.stop();
  deliveries = [];
  await sn?.close();
  sn = undefined;
  await knex.raw('TRUNCATE hub.alert, hub.alert_ticket_lease');
  logLines = [];
});

afterAll(async () => {
  await knex?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

async function deliver(
  options: {
    settings?: Partial<TicketSettings>;
    auth?: Partial<HubConfig['servicenow']['auth']>;
    healthIntervalMs?: number;
  } = {},
): Promise<TicketDelivery> {
  sn ??= await startServiceNowEmulator({ port: 0 });
  const config: HubConfig = {
    ...structuredClone(defaultConfig),
    file: null,
    database: { url: databaseUrl, poolMax: 6 },
    redis: { url: redisUrl },
    servicenow: { url: sn.url, auth: { ...defaultConfig.servicenow.auth, ...options.auth } },
    log: { level: 'info' },
  };
  const delivery = await startTicketDelivery(config, {
    logger,
    knex,
    healthIntervalMs: options.healthIntervalMs,
    settings: {
      queueName: `itsm-first-hour-${randomUUID()}`,
      requestTimeoutMs: 1500,
      reconcileIntervalMs: 500,
      backoffMs: 100,
      backoffMaxMs: 1000,
      ...options.settings,
    },
  });
  deliveries.push(delivery);
  return delivery;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function settled(): Promise<boolean> {
  return (await knex('hub.alert').whereIn('ticket_state', ['pending', 'sent']).first('id')) === undefined;
}

const alertRow = (deviceId: string) => knex('hub.alert').where({ device_id: deviceId }).first();

function raise(deviceId: string, evidence: Record<string, unknown> = {}): AlertEvent {
  return {
    kind: 'raise',
    deviceId,
    rule: 'temperature_high',
    metric: 'temperature',
    severity: 'warn',
    evidence: { value: 91.5, threshold: 85, ...evidence },
  };
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metricsRegistry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number> }>;
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((s, v) => s + v.value, 0);
}

/** The shipped outbound mapping with short_description computed by JSONata (which makes it asynchronous). */
function jsonataMapping(name: string, jsonata: string): string {
  const shipped = readFileSync(join(repoRoot, 'mappings/alert-incident-v1.yaml'), 'utf8');
  const start = shipped.indexOf('  short_description: >-');
  const end = shipped.indexOf('  description: >-');
  const text =
    `${shipped.slice(0, start)}  short_description: { expr: { jsonata: '${jsonata}' }, on_error: dead_letter }\n${shipped.slice(end)}`.replace(
      /\ntests:[\s\S]*$/,
      '\n',
    );
  // A mapping's source contract lives under its own folder (mappings/README.md): take the shipped one along.
  cpSync(join(repoRoot, 'mappings/contracts'), join(tmp, 'contracts'), { recursive: true });
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliEntry, ...args],
      { cwd: repoRoot, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('ServiceNow tickets in the first hour', () => {
  it('delivers a device id with a slash under an encoded correlation id; a valid id keeps its exact one', async () => {
    await deliver();
    // An incident the previous version opened for dev-7: it must be found again, not duplicated.
    const old = sn!.insert('incident', {
      short_description: 'opened before the upgrade',
      correlation_id: 'iothub:dev-7:temperature:temperature_high',
      state: '2',
    });
    await raiseAlerts(knex, [
      raise('G-50/fan1', { value: 10.160000000000002, threshold: 8 }),
      raise('dev-7'),
    ]);
    await waitFor('both delivered', settled);

    const slash = await alertRow('G-50/fan1');
    expect(slash).toMatchObject({ ticket_state: 'acknowledged', ticket_error: null });
    expect(slash.ticket_correlation_id).toBe('iothub:..G-50_2Ffan1:temperature:temperature_high');
    const [incident, ...more] = sn!
      .records('incident')
      .filter((r) => r.correlation_id === slash.ticket_correlation_id);
    expect(more).toHaveLength(0);
    expect(incident!.number).toBe(slash.ticket_number);
    // Not in MDM: said so, and no CI guessed; the value rounded, with the metric's unit from dw.dim_metric.
    expect(incident!.short_description).toBe(
      '[WARN] temperature_high on temperature at G-50/fan1 (device not yet in MDM)',
    );
    expect(incident!.description).toContain('Asset: device not yet in MDM');
    expect(incident!.description).toContain('Observed: 10.16 Cel (threshold 8 Cel)');
    expect(incident!.cmdb_ci ?? '').toBe('');

    const valid = await alertRow('dev-7');
    expect(valid).toMatchObject({
      ticket_state: 'acknowledged',
      ticket_correlation_id: 'iothub:dev-7:temperature:temperature_high',
      ticket_sys_id: old.sys_id,
    });
    expect(
      sn!.records('incident').filter((r) => r.correlation_id === 'iothub:dev-7:temperature:temperature_high'),
    ).toHaveLength(1);
  });

  it('delivers with an outbound mapping that uses JSONata', async () => {
    const file = jsonataMapping(
      'jsonata-ok.yaml',
      '"IoT " & $uppercase($root.severity) & ": " & $root.device_id',
    );
    await deliver({ settings: { mappingFile: file } });
    await raiseAlerts(knex, [raise('dev-json')]);
    await waitFor('delivered', settled);
    const row = await alertRow('dev-json');
    expect(row.ticket_state).toBe('acknowledged');
    expect(sn!.record('incident', row.ticket_sys_id)?.short_description).toBe('IoT WARN: dev-json');
  });

  it('fails a JSONata mapping error for good, with the mapping file:line:col, instead of retrying it', async () => {
    const file = jsonataMapping('jsonata-broken.yaml', '$error("no text for " & $root.device_id)');
    const retriesBefore = await metricValue('hub_ticket_retries_total', {});
    await deliver({ settings: { mappingFile: file } });
    await raiseAlerts(knex, [raise('dev-broken')]);
    await waitFor('settled', settled);
    const row = await alertRow('dev-broken');
    expect(row.ticket_state).toBe('failed');
    expect(row.ticket_error).toMatch(
      /JSONATA_FAILED: .*jsonata-broken\.yaml:\d+:\d+: .*no text for dev-broken/,
    );
    expect(row.ticket_attempts).toBe(0);
    expect(await metricValue('hub_ticket_retries_total', {})).toBe(retriesBefore);
    expect(sn!.requests().filter((r) => r.route === 'POST /api/now/v2/table/incident')).toHaveLength(0);
  });

  it('retries a failed ticket with `iot-hub tickets retry`, and lists it with tickets list and alerts list', async () => {
    const wrong = await deliver({ auth: { password: 'not-the-password' } });
    await raiseAlerts(knex, [raise('dev-retry')]);
    await waitFor('the intent failed', async () => (await alertRow('dev-retry'))?.ticket_state === 'failed');
    await wrong.stop();
    deliveries = deliveries.filter((d) => d !== wrong);
    const key = (await alertRow('dev-retry')).alert_key as string;

    const failed = await cli(['tickets', 'list', '--failed', '--json']);
    expect(failed.code, failed.stderr).toBe(0);
    const listed = failed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(listed).toEqual([
      expect.objectContaining({
        alertKey: key,
        ticketState: 'failed',
        lastError: expect.stringContaining('401'),
      }),
    ]);
    const table = await cli(['tickets', 'list']);
    expect(table.stdout).toMatch(/^ALERT +KEY +STATE +TICKET +INCIDENT +LAST ERROR$/m);
    expect(table.stdout).toContain('1 ticket intent(s), 1 failed; once the cause is fixed');

    expect((await cli(['tickets', 'retry'])).code).toBe(2);
    const unknown = await cli(['tickets', 'retry', 'no-such-key']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('no-such-key: no failed ticket intent');

    await deliver(); // the credentials fixed
    const retry = await cli(['tickets', 'retry', key]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain(`retrying ${key}`);
    await waitFor(
      'delivered after the retry',
      async () => (await alertRow('dev-retry')).ticket_state === 'acknowledged',
    );
    const row = await alertRow('dev-retry');
    expect(row.ticket_number).toMatch(/^INC/);

    const alerts = await cli(['alerts', 'list', '--open', '--json']);
    expect(alerts.code, alerts.stderr).toBe(0);
    expect(JSON.parse(alerts.stdout.trim())).toMatchObject({
      alertKey: key,
      status: 'open',
      ticketState: 'acknowledged',
      incident: row.ticket_number,
      lastError: null,
    });
  });

  it('shows a wrong password through the health probe within a minute, logged once with the config key', async () => {
    const delivery = await deliver({ auth: { password: 'wrong-pass' } });
    await waitFor(
      'the probe to report refused credentials',
      () => delivery.health().state === 'auth',
      60_000,
    );
    const health = delivery.health();
    expect(health.up).toBe(false);
    expect(health.error).toContain('check servicenow.auth.password for user "admin"');
    // Probing again while the password is still wrong logs nothing new.
    expect((await delivery.checkHealth()).state).toBe('auth');
    const lines = logLines.filter((l) => l.includes('refuses the hub'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"configKey":"servicenow.auth.password"');
    expect(logLines.join('')).not.toContain('wrong-pass');

    const right = await deliver();
    await waitFor('the probe to pass', () => right.health().up);
  });

  it('shows a wrong OAuth client secret through the probe, and counts the refused token requests', async () => {
    const refusedBefore = await metricValue('hub_servicenow_requests_total', {
      method: 'POST',
      status: '401',
    });
    const delivery = await deliver({ auth: { mode: 'oauth', clientSecret: 'stale-secret' } });
    await waitFor(
      'the probe to report refused credentials',
      () => delivery.health().state === 'auth',
      60_000,
    );
    expect(delivery.health().error).toContain('servicenow.auth.clientSecret for OAuth client "hub"');
    const refusedTokens = sn!
      .requests()
      .filter((r) => r.route === 'POST /oauth_token.do' && r.status === 401).length;
    expect(refusedTokens).toBeGreaterThan(0);
    expect(await metricValue('hub_servicenow_requests_total', { method: 'POST', status: '401' })).toBe(
      refusedBefore + refusedTokens,
    );
  });
});
