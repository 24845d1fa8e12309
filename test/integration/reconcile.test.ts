import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { reconcileDevices } from '../../src/cdc/index.ts';
import { recreateItsmDatabase } from '../support/itsm-database.ts';

// `iot-hub reconcile devices` (docs/architecture.md, "Reconciling devices") on a scratch database whose
// dimensions and device state the test writes directly.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
let databaseUrl: string;
let pool: pg.Pool;

beforeAll(async () => {
  databaseUrl = await recreateItsmDatabase(inject('serverUrl'), 'iot_hub_test_reconcile');
  pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
});

afterAll(async () => {
  await pool?.end();
});

beforeEach(async () => {
  await pool.query(`TRUNCATE hub.device_state;
    DELETE FROM dw.dim_device WHERE device_sk <> -1;
    DELETE FROM dw.dim_asset WHERE asset_sk <> -1;
    DELETE FROM dw.dim_cmdb_ci WHERE cmdb_ci_sk <> -1;`);
  await pool.query(`INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_name, hierarchy_path, valid_from,
                                              row_hash, source_system)
                    VALUES ('A-HAM-P1', 'asset', 'Pump 1', 'Plant Hamburg', 'n1', '-infinity', '\\x01', 'mdm')`);
});

interface Device {
  id: string;
  serial?: string;
  firmware?: string;
  lifecycle?: string;
  inferred?: boolean;
}

async function mdm(d: Device): Promise<void> {
  await pool.query(
    `INSERT INTO dw.dim_device (device_nk, serial_number, model, manufacturer, firmware_version, installed_asset_nk,
                                lifecycle_status, is_inferred, valid_from, row_hash, source_system)
     VALUES ($1, $2, 'TX-300', 'Acme', $3, 'A-HAM-P1', $4, $5, '-infinity', '\\x01', $6)`,
    [
      d.id,
      d.inferred ? null : (d.serial ?? `SN-${d.id}`),
      d.inferred ? null : (d.firmware ?? '1.0.0'),
      d.inferred ? 'inferred' : (d.lifecycle ?? 'active'),
      d.inferred ?? false,
      d.inferred ? 'telemetry' : 'mdm',
    ],
  );
}

async function ci(
  sysId: string,
  values: Record<string, string | null> & { device_nk: string; serial_number: string },
): Promise<void> {
  const row = {
    ci_name: values.device_nk,
    model: 'TX-300',
    manufacturer: 'acme',
    firmware_version: '1.0.0',
    location_name: 'Plant Hamburg',
    install_status: 'installed',
    ...values,
  };
  await pool.query(
    `INSERT INTO dw.dim_cmdb_ci (cmdb_ci_nk, ci_class, ci_name, device_nk, serial_number, model, manufacturer,
                                 firmware_version, location_name, install_status, valid_from, row_hash, source_system)
     VALUES ($1, 'cmdb_ci_iot', $2, $3, $4, $5, $6, $7, $8, $9, '-infinity', '\\x01', 'servicenow_cmdb')`,
    [
      sysId,
      row.ci_name,
      row.device_nk,
      row.serial_number,
      row.model,
      row.manufacturer,
      row.firmware_version,
      row.location_name,
      row.install_status,
    ],
  );
}

async function state(deviceId: string, status: 'online' | 'offline', firmware: string | null): Promise<void> {
  await pool.query(
    `INSERT INTO hub.device_state (device_id, status, status_changed_at, last_seen_at, last_received_at, firmware_version)
     VALUES ($1, $2, '2026-11-30T10:00:00Z', '2026-11-30T10:05:00Z', '2026-11-30T10:05:01Z', $3)`,
    [deviceId, status, firmware],
  );
}

/** One device of each kind of finding, and devices that agree. */
async function seedFindings(): Promise<void> {
  await mdm({ id: 'dev-ok' });
  await ci('c-ok', { device_nk: 'dev-ok', serial_number: 'SN-dev-ok' });
  await state('dev-ok', 'online', '1.0.0');
  // Matched by serial number although the CI is named otherwise.
  await mdm({ id: 'dev-serial' });
  await ci('c-serial', { device_nk: 'Sensor three', serial_number: 'SN-dev-serial' });
  await mdm({ id: 'dev-conflict', serial: 'SN-2' });
  await ci('c-conflict', {
    device_nk: 'dev-conflict',
    serial_number: 'SN-2X',
    firmware_version: '0.9.0',
    location_name: 'Plant Bremen',
    install_status: 'in_stock',
  });
  await state('dev-conflict', 'online', '1.1.0');
  await mdm({ id: 'dev-no-ci' });
  await mdm({ id: 'dev-retired', lifecycle: 'retired' });
  await mdm({ id: 'dev-inferred', inferred: true });
  await state('dev-inferred', 'online', null);
  await state('dev-state-only', 'offline', null);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin/iot-hub.js'), ...args],
      { cwd: repoRoot, env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('reconcile devices', () => {
  it('reports telemetry-only devices, MDM devices without a CI, and conflicts with the rule applied', async () => {
    await seedFindings();
    const report = await reconcileDevices(pool);
    expect(report.consistent).toBe(false);
    expect(report.telemetryNotInMdm).toEqual([
      { deviceId: 'dev-inferred', seenAs: 'inferred', lastSeenAt: new Date('2026-11-30T10:05:00Z') },
      { deviceId: 'dev-state-only', seenAs: 'device_state', lastSeenAt: new Date('2026-11-30T10:05:00Z') },
    ]);
    // A retired device needs no CI; dev-serial's CI is found by its serial number.
    expect(report.mdmNotInCmdb).toEqual([
      { deviceId: 'dev-no-ci', serialNumber: 'SN-dev-no-ci', lifecycleStatus: 'active' },
    ]);
    expect(report.conflicts).toEqual([
      {
        deviceId: 'dev-conflict',
        ciSysId: 'c-conflict',
        attribute: 'serial_number',
        values: { mdm: 'SN-2', cmdb: 'SN-2X' },
        survivor: 'mdm',
        survivingValue: 'SN-2',
        rule: 'MDM is the system of record for serial_number',
      },
      {
        deviceId: 'dev-conflict',
        ciSysId: 'c-conflict',
        attribute: 'firmware_version',
        values: { telemetry: '1.1.0', mdm: '1.0.0', cmdb: '0.9.0' },
        survivor: 'telemetry',
        survivingValue: '1.1.0',
        rule: "telemetry's last reported firmware wins over MDM and the CMDB",
      },
      {
        deviceId: 'dev-conflict',
        ciSysId: 'c-conflict',
        attribute: 'location',
        values: { mdm: 'Plant Hamburg', cmdb: 'Plant Bremen' },
        survivor: 'mdm',
        survivingValue: 'Plant Hamburg',
        rule: "MDM's installed asset decides the site; the CMDB location follows it",
      },
      {
        deviceId: 'dev-conflict',
        ciSysId: 'c-conflict',
        attribute: 'status',
        values: { mdm: 'active', cmdb: 'in_stock', telemetry: 'online' },
        survivor: 'mdm',
        survivingValue: 'active',
        rule: "MDM's lifecycle status is the system of record; the CMDB install status follows it, and telemetry (online/offline) only reports",
      },
    ]);
  });

  it('prints a table for people and JSON for machines, and exits 1 on findings, 0 when consistent', async () => {
    await seedFindings();
    const text = await cli(['reconcile', 'devices']);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(1);
    const lines = text.stdout.split('\n');
    expect(lines).toContain('Devices seen in telemetry but missing in MDM: 2');
    expect(lines).toContain('  DEVICE          SEEN AS       LAST SEEN');
    expect(lines).toContain('  dev-state-only  device_state  2026-11-30T10:05:00.000Z');
    expect(lines).toContain('Devices in MDM without a CMDB CI: 1');
    expect(lines).toContain('  dev-no-ci  SN-dev-no-ci  active');
    expect(lines).toContain('Attribute conflicts: 4');
    expect(lines.find((l) => l.includes('firmware_version'))).toBe(
      "  dev-conflict  firmware_version  1.0.0          0.9.0         1.1.0      telemetry: 1.1.0    telemetry's last reported firmware wins over MDM and the CMDB",
    );

    const json = await cli(['reconcile', 'devices', '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ consistent: false, mdmNotInCmdb: [{ deviceId: 'dev-no-ci' }] });
    expect(parsed.conflicts).toHaveLength(4);
    expect(parsed.rules.map((r: { attribute: string }) => r.attribute)).toEqual([
      'serial_number',
      'model',
      'manufacturer',
      'firmware_version',
      'location',
      'status',
    ]);

    // Fixed: the telemetry-only devices registered, a CI for dev-no-ci, the CMDB corrected.
    await pool.query(`DELETE FROM dw.dim_device WHERE device_nk IN ('dev-inferred', 'dev-conflict');
      DELETE FROM hub.device_state WHERE device_id IN ('dev-state-only', 'dev-inferred', 'dev-conflict')`);
    await ci('c-no-ci', { device_nk: 'dev-no-ci', serial_number: 'SN-dev-no-ci' });
    const clean = await cli(['reconcile', 'devices']);
    expect(clean).toEqual({
      code: 0,
      stdout: 'Devices are consistent across MDM, the CMDB and telemetry.\n',
      stderr: '',
    });
  });
});
