import type { Knex } from '../db/index.ts';
import type { Logger } from '../observability/index.ts';
import { type AlertEvent, alertKey, emptyOutcome, type RaiseOutcome } from './alert-events.ts';
import { type AlertRule, type HeartbeatRule, loadAlertRules, type ThresholdRule } from './alert-rules.ts';
import { type DeviceInfo, devicesInMaintenance, lastReadingTimes, loadDevices } from './device-context.ts';
import { raiseAlerts } from './raise-alerts.ts';
import { activeState, applyReading, normalState, type ThresholdState } from './threshold-tracker.ts';

/** One reading to evaluate, in the metric's canonical unit (as dw.fact_sensor_reading stores it). */
export interface AlertReading {
  deviceId: string;
  metric: string;
  value: number;
  ts: Date | string | number;
  unit?: string;
}

export interface AlertEngineOptions {
  knex: Knex;
  /** The rules, or the path of a rules file (connectors/alert-rules.yaml). */
  rules: readonly AlertRule[] | string;
  logger?: Logger;
  /** How long device ranges and intervals are cached before dw.dim_device is read again. @defaultValue 60 s */
  deviceCacheMs?: number;
  /** Seed heartbeat last-seen times from the last day of dw.fact_sensor_reading. @defaultValue true */
  seedLastSeen?: boolean;
  /** Written into evidence as `detector`, shown in the incident. @defaultValue 'alert-rules-1' */
  detectorVersion?: string;
}

export interface AlertEngine {
  readonly rules: readonly AlertRule[];
  /**
   * Runs the threshold rules over readings (any order; each device and metric is applied in time order, and
   * readings older than one already applied are ignored) and writes the resulting opens, escalations and
   * clears to hub.alert. A reading from a device whose heartbeat alert is open clears it. Devices without a
   * current dw.dim_device row, or without the range a rule needs, are skipped for that rule. Returns what was
   * written; an empty list writes nothing.
   */
  evaluateReadings(readings: readonly AlertReading[]): Promise<RaiseOutcome>;
  /** Opens heartbeat-loss alerts for devices silent for too long at `now`. Call it periodically. */
  checkHeartbeats(now?: Date): Promise<RaiseOutcome>;
}

interface Pending {
  event: AlertEvent;
  /** Raises are checked against open maintenance work orders of the device at this time. */
  at?: Date;
  /** Asks to un-suppress an alert: dropped while the device is still under maintenance. */
  unsuppress?: boolean;
}

/**
 * Creates the alert engine: threshold rules with flapping suppression, heartbeat loss and maintenance
 * suppression, feeding hub.alert through raiseAlerts. State for breaches not yet long enough lives in memory
 * (a restart delays an open by at most one `for`); open alerts are read back from hub.alert.
 */
export function createAlertEngine(options: AlertEngineOptions): AlertEngine {
  const { knex } = options;
  const rules = typeof options.rules === 'string' ? loadAlertRules(options.rules) : [...options.rules];
  const thresholdRules = rules.filter((r): r is ThresholdRule => r.kind === 'threshold');
  const heartbeatRules = rules.filter((r): r is HeartbeatRule => r.kind === 'heartbeat');
  const detector = options.detectorVersion ?? 'alert-rules-1';
  const cacheMs = options.deviceCacheMs ?? 60_000;
  const devices = new Map<string, { info: DeviceInfo | null; loadedAt: number }>();
  const states = new Map<string, ThresholdState>();
  /** Devices whose active alerts were read from hub.alert into `states`. */
  const statesLoaded = new Set<string>();
  const lastSeen = new Map<string, number>();
  let lastSeenSeeded = options.seedLastSeen === false;

  async function deviceInfo(ids: readonly string[]): Promise<Map<string, DeviceInfo | null>> {
    const now = Date.now();
    const stale = ids.filter((id) => {
      const cached = devices.get(id);
      return !cached || now - cached.loadedAt > cacheMs;
    });
    if (stale.length > 0) {
      const loaded = await loadDevices(knex, stale);
      for (const id of stale) devices.set(id, { info: loaded.get(id) ?? null, loadedAt: now });
    }
    return new Map(ids.map((id) => [id, devices.get(id)?.info ?? null]));
  }

  async function loadStates(ids: readonly string[]): Promise<void> {
    const missing = ids.filter((id) => !statesLoaded.has(id));
    if (missing.length === 0) return;
    const rows: Array<{ alert_key: string; status: string; opened_at: Date }> = await knex('hub.alert')
      .whereIn('device_id', missing)
      .whereNot({ status: 'cleared' })
      .select('alert_key', 'status', 'opened_at');
    for (const r of rows) {
      states.set(
        r.alert_key,
        activeState(r.opened_at.getTime(), r.status === 'escalated', r.status === 'suppressed'),
      );
    }
    for (const id of missing) statesLoaded.add(id);
  }

  function limitOf(rule: ThresholdRule, info: DeviceInfo | null): number | null {
    if (typeof rule.limit === 'number') return rule.limit;
    if (!info) return null;
    return rule.limit === 'device.range_max' ? info.rangeMax : info.rangeMin;
  }

  /**
   * Marks raises of devices under maintenance as suppressed (dropping un-suppress requests for them), then
   * writes everything through raiseAlerts in one transaction.
   */
  async function write(pending: Pending[]): Promise<RaiseOutcome> {
    if (pending.length === 0) return emptyOutcome();
    const raises = pending.filter((p) => p.event.kind === 'raise' && p.at);
    let inMaintenance = new Set<string>();
    if (raises.length > 0) {
      const at = new Date(Math.max(...raises.map((p) => p.at!.getTime())));
      inMaintenance = await devicesInMaintenance(knex, [...new Set(raises.map((p) => p.event.deviceId))], at);
    }
    const events: AlertEvent[] = [];
    for (const p of pending) {
      if (p.event.kind === 'raise') {
        const maintenance = inMaintenance.has(p.event.deviceId);
        if (p.unsuppress && maintenance) continue;
        p.event.suppressed = maintenance;
        const state = states.get(alertKey(p.event.deviceId, p.event.metric, p.event.rule));
        if (state) state.suppressed = maintenance;
      }
      events.push(p.event);
    }
    const outcome = await raiseAlerts(knex, events);
    options.logger?.debug({ outcome }, 'alert events written');
    return outcome;
  }

  return {
    rules,

    async evaluateReadings(readings) {
      if (readings.length === 0) return emptyOutcome();
      const sorted = readings
        .map((r) => ({ ...r, at: r.ts instanceof Date ? r.ts.getTime() : new Date(r.ts).getTime() }))
        .filter((r) => Number.isFinite(r.at) && Number.isFinite(r.value))
        .sort((a, b) => a.at - b.at);
      const ids = [...new Set(sorted.map((r) => r.deviceId))];
      const info = await deviceInfo(ids);
      await loadStates(ids);
      const pending: Pending[] = [];
      const unsuppressAsked = new Set<string>();
      for (const r of sorted) {
        lastSeen.set(r.deviceId, Math.max(lastSeen.get(r.deviceId) ?? 0, r.at));
        for (const hb of heartbeatRules) {
          const key = alertKey(r.deviceId, null, hb.name);
          if (states.get(key)?.phase === 'active') {
            states.delete(key);
            pending.push({
              event: {
                kind: 'clear',
                deviceId: r.deviceId,
                rule: hb.name,
                metric: null,
                at: new Date(r.at),
                evidence: { reading_at: new Date(r.at).toISOString() },
              },
            });
          }
        }
        for (const rule of thresholdRules) {
          if (rule.metric !== r.metric) continue;
          const deviceRow = info.get(r.deviceId) ?? null;
          const limit = limitOf(rule, deviceRow);
          if (limit === null) continue;
          const key = alertKey(r.deviceId, r.metric, rule.name);
          let state = states.get(key);
          if (!state) {
            state = normalState();
            states.set(key, state);
          }
          const decision = applyReading(rule, state, r.at, r.value, limit);
          const at = new Date(r.at);
          const evidence = {
            value: r.value,
            threshold: limit,
            direction: rule.direction,
            unit: r.unit ?? null,
            window: `${Math.round(rule.forMs / 1000)}s`,
            at: at.toISOString(),
            detector,
          };
          const base = {
            kind: 'raise' as const,
            deviceId: r.deviceId,
            rule: rule.name,
            metric: r.metric,
            at,
            assetId: deviceRow?.assetId ?? null,
          };
          switch (decision.action) {
            case 'open':
              pending.push({
                event: {
                  ...base,
                  severity: decision.severe ? 'fail' : rule.severity,
                  evidence: { ...evidence, breach_since: new Date(decision.breachSince).toISOString() },
                },
                at,
              });
              break;
            case 'escalate':
              pending.push({
                event: {
                  ...base,
                  severity: 'fail',
                  escalate: true,
                  evidence: { ...evidence, escalation: decision.reason },
                },
                at,
              });
              break;
            case 'clear':
              pending.push({
                event: {
                  kind: 'clear',
                  deviceId: r.deviceId,
                  rule: rule.name,
                  metric: r.metric,
                  at,
                  evidence: { ...evidence, recovered_since: new Date(decision.recoveredSince).toISOString() },
                },
              });
              break;
            case 'breach':
              if (state.suppressed && !unsuppressAsked.has(key)) {
                unsuppressAsked.add(key);
                pending.push({ event: { ...base, severity: rule.severity, evidence }, at, unsuppress: true });
              }
              break;
            case 'none':
              break;
          }
        }
      }
      return write(pending);
    },

    async checkHeartbeats(now = new Date()) {
      if (heartbeatRules.length === 0) return emptyOutcome();
      if (!lastSeenSeeded) {
        for (const [id, ts] of await lastReadingTimes(knex, now)) {
          if (!lastSeen.has(id)) lastSeen.set(id, ts);
        }
        lastSeenSeeded = true;
      }
      const ids = [...lastSeen.keys()];
      const info = await deviceInfo(ids);
      const pending: Pending[] = [];
      for (const hb of heartbeatRules) {
        const open: { device_id: string }[] = await knex('hub.alert')
          .where({ rule: hb.name })
          .whereNot({ status: 'cleared' })
          .select('device_id');
        const openSet = new Set(open.map((r) => r.device_id));
        for (const id of ids) {
          const key = alertKey(id, null, hb.name);
          if (openSet.has(id)) {
            if (!states.has(key)) states.set(key, activeState(now.getTime(), false, false));
            continue;
          }
          const interval = info.get(id)?.expectedIntervalMs ?? hb.defaultIntervalMs;
          const seen = lastSeen.get(id)!;
          if (interval === null || now.getTime() - seen <= hb.missedIntervals * interval) continue;
          states.set(key, activeState(now.getTime(), false, false));
          pending.push({
            event: {
              kind: 'raise',
              deviceId: id,
              rule: hb.name,
              metric: null,
              severity: hb.severity,
              at: now,
              assetId: info.get(id)?.assetId ?? null,
              evidence: {
                last_seen: new Date(seen).toISOString(),
                expected_interval_s: interval / 1000,
                missed_intervals: hb.missedIntervals,
                silent_for_s: Math.round((now.getTime() - seen) / 1000),
                window: `${Math.round((hb.missedIntervals * interval) / 1000)}s`,
                detector,
              },
            },
            at: now,
          });
        }
      }
      return write(pending);
    },
  };
}
