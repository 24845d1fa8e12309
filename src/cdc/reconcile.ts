import type pg from 'pg';

// `iot-hub reconcile devices`: where MDM (dw.dim_device), the ServiceNow CMDB (dw.dim_cmdb_ci) and telemetry
// (inferred devices, hub.device_state) disagree about devices (docs/architecture.md, "Reconciling devices").

/** Where a value comes from. */
export type DeviceSource = 'mdm' | 'cmdb' | 'telemetry';

/** Which source's value survives for one attribute, and the rule as people read it. */
export interface SurvivorshipRule {
  attribute: 'serial_number' | 'model' | 'manufacturer' | 'firmware_version' | 'location' | 'status';
  /** The sources in order of precedence: the first one with a value wins. */
  precedence: readonly DeviceSource[];
  rule: string;
}

/** The survivorship rules, one per attribute compared (docs/architecture.md, "Reconciling devices"). */
export const survivorshipRules: readonly SurvivorshipRule[] = [
  {
    attribute: 'serial_number',
    precedence: ['mdm', 'cmdb'],
    rule: 'MDM is the system of record for serial_number',
  },
  { attribute: 'model', precedence: ['mdm', 'cmdb'], rule: 'MDM is the system of record for model' },
  {
    attribute: 'manufacturer',
    precedence: ['mdm', 'cmdb'],
    rule: 'MDM is the system of record for manufacturer',
  },
  {
    attribute: 'firmware_version',
    precedence: ['telemetry', 'mdm', 'cmdb'],
    rule: "telemetry's last reported firmware wins over MDM and the CMDB",
  },
  {
    attribute: 'location',
    precedence: ['mdm', 'cmdb'],
    rule: "MDM's installed asset decides the site; the CMDB location follows it",
  },
  {
    attribute: 'status',
    precedence: ['mdm', 'cmdb', 'telemetry'],
    rule: "MDM's lifecycle status is the system of record; the CMDB install status follows it, and telemetry (online/offline) only reports",
  },
];

/** The CMDB install status each MDM lifecycle status calls for (docs/architecture.md, "Reconciling devices"). */
const installStatusFor: Record<string, string> = {
  planned: 'in_stock',
  active: 'installed',
  maintenance: 'in_maintenance',
  retired: 'retired',
};

export interface TelemetryOnlyDevice {
  deviceId: string;
  /** `inferred`: readings loaded under an inferred member; `device_state`: only the state table knows it. */
  seenAs: 'inferred' | 'device_state';
  lastSeenAt: Date | null;
}

export interface DeviceWithoutCi {
  deviceId: string;
  serialNumber: string | null;
  lifecycleStatus: string | null;
}

export interface AttributeConflict {
  deviceId: string;
  ciSysId: string;
  attribute: SurvivorshipRule['attribute'];
  values: Partial<Record<DeviceSource, string | null>>;
  survivor: DeviceSource;
  survivingValue: string | null;
  rule: string;
}

export interface DeviceReconciliation {
  consistent: boolean;
  telemetryNotInMdm: TelemetryOnlyDevice[];
  mdmNotInCmdb: DeviceWithoutCi[];
  conflicts: AttributeConflict[];
}

interface PairRow {
  device_nk: string;
  mdm_serial: string | null;
  mdm_model: string | null;
  mdm_manufacturer: string | null;
  mdm_firmware: string | null;
  mdm_site: string | null;
  mdm_lifecycle: string | null;
  ci_sys_id: string;
  ci_serial: string | null;
  ci_model: string | null;
  ci_manufacturer: string | null;
  ci_firmware: string | null;
  ci_location: string | null;
  ci_install_status: string | null;
  telemetry_firmware: string | null;
  telemetry_status: string | null;
}

/**
 * Compares the current MDM devices, CMDB CIs and telemetry state. A CI stands for the device its device_nk
 * names (the CI's name); a device no CI names is matched by serial number. Retired MDM devices need no CI.
 */
export async function reconcileDevices(db: pg.Pool | pg.ClientBase): Promise<DeviceReconciliation> {
  const telemetry = await db.query<{
    device_id: string;
    seen_as: 'inferred' | 'device_state';
    last_seen_at: Date | null;
  }>(
    `SELECT d.device_nk AS device_id, 'inferred' AS seen_as, s.last_seen_at
       FROM dw.dim_device d LEFT JOIN hub.device_state s ON s.device_id = d.device_nk
      WHERE d.is_current AND d.is_inferred AND d.device_sk <> -1
     UNION ALL
     SELECT s.device_id, 'device_state', s.last_seen_at
       FROM hub.device_state s
      WHERE NOT EXISTS (SELECT 1 FROM dw.dim_device d WHERE d.device_nk = s.device_id AND d.is_current)
     ORDER BY 1`,
  );
  const missing = await db.query<{
    device_id: string;
    serial_number: string | null;
    lifecycle_status: string | null;
  }>(
    `SELECT d.device_nk AS device_id, d.serial_number, d.lifecycle_status
       FROM dw.dim_device d
      WHERE d.is_current AND NOT d.is_inferred AND d.device_sk <> -1
        AND coalesce(d.lifecycle_status, '') <> 'retired'
        AND NOT EXISTS (SELECT 1 FROM dw.dim_cmdb_ci c
                         WHERE c.is_current AND c.cmdb_ci_sk <> -1
                           AND (c.device_nk = d.device_nk OR (c.serial_number IS NOT NULL AND c.serial_number = d.serial_number)))
      ORDER BY 1`,
  );
  const pairs = await db.query<PairRow>(
    `SELECT d.device_nk, d.serial_number AS mdm_serial, d.model AS mdm_model,
            nullif(d.manufacturer, 'unknown') AS mdm_manufacturer, d.firmware_version AS mdm_firmware,
            a.site_name AS mdm_site, d.lifecycle_status AS mdm_lifecycle,
            c.cmdb_ci_nk AS ci_sys_id, c.serial_number AS ci_serial, c.model AS ci_model,
            c.manufacturer AS ci_manufacturer, c.firmware_version AS ci_firmware, c.location_name AS ci_location,
            c.install_status AS ci_install_status,
            s.firmware_version AS telemetry_firmware, s.status AS telemetry_status
       FROM dw.dim_device d
       JOIN LATERAL (
              SELECT * FROM dw.dim_cmdb_ci c
               WHERE c.is_current AND c.cmdb_ci_sk <> -1
                 AND (c.device_nk = d.device_nk OR (c.serial_number IS NOT NULL AND c.serial_number = d.serial_number))
               ORDER BY (c.device_nk = d.device_nk) DESC, c.cmdb_ci_nk
               LIMIT 1) c ON true
       LEFT JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current
       LEFT JOIN hub.device_state s ON s.device_id = d.device_nk
      WHERE d.is_current AND NOT d.is_inferred AND d.device_sk <> -1
      ORDER BY d.device_nk`,
  );
  const conflicts = pairs.rows.flatMap(conflictsOf);
  const result: DeviceReconciliation = {
    consistent: false,
    telemetryNotInMdm: telemetry.rows.map((r) => ({
      deviceId: r.device_id,
      seenAs: r.seen_as,
      lastSeenAt: r.last_seen_at,
    })),
    mdmNotInCmdb: missing.rows.map((r) => ({
      deviceId: r.device_id,
      serialNumber: r.serial_number,
      lifecycleStatus: r.lifecycle_status,
    })),
    conflicts,
  };
  result.consistent =
    result.telemetryNotInMdm.length + result.mdmNotInCmdb.length + result.conflicts.length === 0;
  return result;
}

function conflictsOf(row: PairRow): AttributeConflict[] {
  const found: AttributeConflict[] = [];
  const add = (
    attribute: SurvivorshipRule['attribute'],
    values: Partial<Record<DeviceSource, string | null>>,
  ) => {
    const rule = survivorshipRules.find((r) => r.attribute === attribute)!;
    const survivor = rule.precedence.find((s) => values[s] != null) ?? rule.precedence[0]!;
    found.push({
      deviceId: row.device_nk,
      ciSysId: row.ci_sys_id,
      attribute,
      values,
      survivor,
      survivingValue: values[survivor] ?? null,
      rule: rule.rule,
    });
  };
  const differ = (a: string | null, b: string | null, fold = false) =>
    a != null &&
    b != null &&
    (fold ? a.trim().toLowerCase() !== b.trim().toLowerCase() : a.trim() !== b.trim());

  if (differ(row.mdm_serial, row.ci_serial))
    add('serial_number', { mdm: row.mdm_serial, cmdb: row.ci_serial });
  if (differ(row.mdm_model, row.ci_model, true)) add('model', { mdm: row.mdm_model, cmdb: row.ci_model });
  if (differ(row.mdm_manufacturer, row.ci_manufacturer, true))
    add('manufacturer', { mdm: row.mdm_manufacturer, cmdb: row.ci_manufacturer });
  const firmware = [row.telemetry_firmware, row.mdm_firmware, row.ci_firmware].filter((v) => v != null);
  if (new Set(firmware).size > 1)
    add('firmware_version', {
      telemetry: row.telemetry_firmware,
      mdm: row.mdm_firmware,
      cmdb: row.ci_firmware,
    });
  if (differ(row.mdm_site, row.ci_location, true))
    add('location', { mdm: row.mdm_site, cmdb: row.ci_location });
  const expected = row.mdm_lifecycle ? installStatusFor[row.mdm_lifecycle] : undefined;
  const cmdbDisagrees =
    expected !== undefined && row.ci_install_status != null && row.ci_install_status !== expected;
  // A device MDM calls planned or retired should not report; an online one is a lifecycle conflict.
  const telemetryDisagrees =
    row.telemetry_status === 'online' && (row.mdm_lifecycle === 'retired' || row.mdm_lifecycle === 'planned');
  if (cmdbDisagrees || telemetryDisagrees)
    add('status', { mdm: row.mdm_lifecycle, cmdb: row.ci_install_status, telemetry: row.telemetry_status });
  return found;
}
