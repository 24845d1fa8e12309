import type { Command } from 'commander';
import { type DeviceReconciliation, reconcileDevices, survivorshipRules } from '../cdc/index.ts';
import { loadConfig } from '../config/index.ts';
import { createPool } from '../db/index.ts';

/**
 * `iot-hub reconcile devices`: devices seen in telemetry but missing in MDM, MDM devices without a CMDB CI, and
 * attribute conflicts with the survivorship rule applied (docs/architecture.md, "Reconciling devices"). Exits 1
 * when there are findings, so a cron job can alert.
 */
export function registerReconcileCommand(program: Command): void {
  const reconcile = program
    .command('reconcile')
    .description('compare MDM, the ServiceNow CMDB and telemetry');
  reconcile
    .command('devices')
    .description('report devices missing in MDM or the CMDB, and attribute conflicts; exit 1 on findings')
    .option('--json', 'print one JSON document')
    .action(async (o: { json?: boolean }) => {
      const pool = createPool(loadConfig({ file: program.opts().config }).database.url, {
        max: 1,
        name: 'iot-hub-reconcile',
      });
      try {
        const report = await reconcileDevices(pool);
        console.log(
          o.json ? JSON.stringify({ ...report, rules: survivorshipRules }, null, 2) : formatReport(report),
        );
        if (!report.consistent) process.exitCode = 1;
      } finally {
        await pool.end();
      }
    });
}

/** The report as people read it: one table per finding kind. */
export function formatReport(report: DeviceReconciliation): string {
  if (report.consistent) return 'Devices are consistent across MDM, the CMDB and telemetry.';
  const out: string[] = [];
  out.push(`Devices seen in telemetry but missing in MDM: ${report.telemetryNotInMdm.length}`);
  if (report.telemetryNotInMdm.length > 0)
    out.push(
      table(
        ['DEVICE', 'SEEN AS', 'LAST SEEN'],
        report.telemetryNotInMdm.map((d) => [d.deviceId, d.seenAs, d.lastSeenAt?.toISOString() ?? '-']),
      ),
    );
  out.push('', `Devices in MDM without a CMDB CI: ${report.mdmNotInCmdb.length}`);
  if (report.mdmNotInCmdb.length > 0)
    out.push(
      table(
        ['DEVICE', 'SERIAL', 'LIFECYCLE'],
        report.mdmNotInCmdb.map((d) => [d.deviceId, d.serialNumber ?? '-', d.lifecycleStatus ?? '-']),
      ),
    );
  out.push('', `Attribute conflicts: ${report.conflicts.length}`);
  if (report.conflicts.length > 0)
    out.push(
      table(
        ['DEVICE', 'ATTRIBUTE', 'MDM', 'CMDB', 'TELEMETRY', 'SURVIVES', 'RULE'],
        report.conflicts.map((c) => [
          c.deviceId,
          c.attribute,
          shown(c.values.mdm),
          shown(c.values.cmdb),
          shown(c.values.telemetry),
          `${c.survivor}: ${c.survivingValue ?? '-'}`,
          c.rule,
        ]),
      ),
    );
  return out.join('\n');
}

function shown(value: string | null | undefined): string {
  return value === undefined ? '' : (value ?? '-');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map((r) => `  ${line(r)}`).join('\n');
}
