import type { Knex } from '../db/index.ts';
import type { AlertEvent, RaiseOutcome } from './alert-events.ts';
import { type DeviceInfo, devicesInMaintenance, lastReadingTimes, loadDevices } from './device-context.ts';
import { type RaiseAlertsOptions, raiseAlerts } from './raise-alerts.ts';

/** An alert that is not cleared, as the engine seeds its trackers with it. */
export interface ActiveAlert {
  alertKey: string;
  deviceId: string | null;
  rule: string;
  status: 'open' | 'escalated' | 'suppressed';
  openedAt: Date;
}

/**
 * Everything the alert engine reads and writes, so the engine's ordering and retry logic can be tested without
 * a database (test/unit/quality). knexAlertStore is the one the hub uses.
 */
export interface AlertStore {
  devices(ids: readonly string[]): Promise<Map<string, DeviceInfo>>;
  /** Alerts not cleared of the given devices, or of the given rule when `by` is `rule`. */
  activeAlerts(by: { devices: readonly string[] } | { rule: string }): Promise<ActiveAlert[]>;
  devicesInMaintenance(ids: readonly string[], at: Date): Promise<Set<string>>;
  lastReadingTimes(now: Date): Promise<Map<string, number>>;
  raise(events: readonly AlertEvent[], options: RaiseAlertsOptions): Promise<RaiseOutcome>;
}

export function knexAlertStore(knex: Knex): AlertStore {
  return {
    devices: (ids) => loadDevices(knex, ids),
    async activeAlerts(by) {
      const query = knex('hub.alert').whereNot({ status: 'cleared' });
      if ('rule' in by) query.where({ rule: by.rule });
      else query.whereIn('device_id', [...by.devices]);
      const rows: Array<{
        alert_key: string;
        device_id: string | null;
        rule: string;
        status: ActiveAlert['status'];
        opened_at: Date;
      }> = await query.select('alert_key', 'device_id', 'rule', 'status', 'opened_at');
      return rows.map((r) => ({
        alertKey: r.alert_key,
        deviceId: r.device_id,
        rule: r.rule,
        status: r.status,
        openedAt: r.opened_at,
      }));
    },
    devicesInMaintenance: (ids, at) => devicesInMaintenance(knex, ids, at),
    lastReadingTimes: (now) => lastReadingTimes(knex, now),
    raise: (events, options) => raiseAlerts(knex, events, options),
  };
}
