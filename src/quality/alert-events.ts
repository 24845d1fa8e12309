// The vocabulary shared by every alert source (threshold rules, heartbeat loss, and the data-quality
// detectors, not built yet): what a source reports, and how an alert is keyed.

/** hub.alert's severity scale (CHECK constraint); `fail` is the one an escalation raises to. */
export type AlertSeverity = 'info' | 'warn' | 'fail';

export const severityRank: Readonly<Record<AlertSeverity, number>> = { info: 0, warn: 1, fail: 2 };

/** The condition holds (again): opens the alert, or repeats, escalates or un-suppresses the open one. */
export interface AlertRaise {
  kind: 'raise';
  deviceId: string;
  /** Rule or detector check name, e.g. `temperature_high`, `heartbeat_lost`. */
  rule: string;
  /** The metric the rule watches; null for device-level checks such as heartbeat loss. */
  metric?: string | null;
  severity: AlertSeverity;
  /** What was seen: value, limit, unit, window, timestamps. Stored as hub.alert.evidence and put in work notes. */
  evidence?: Record<string, unknown>;
  /** When the condition was observed; defaults to now. Becomes opened_at / last_seen_at. */
  at?: Date;
  assetId?: string | null;
  /**
   * The device has an open maintenance work order: the alert is kept with status `suppressed` and no ticket.
   * A later raise without it turns a suppressed alert into an open one with a ticket.
   */
  suppressed?: boolean;
  /** Escalate even if the severity did not rise (e.g. open longer than the rule allows). */
  escalate?: boolean;
}

/** The condition is over: clears the open alert, whose incident is then resolved. A clear without one is ignored. */
export interface AlertClear {
  kind: 'clear';
  deviceId: string;
  rule: string;
  metric?: string | null;
  at?: Date;
  evidence?: Record<string, unknown>;
}

export type AlertEvent = AlertRaise | AlertClear;

/**
 * The alert key: device + metric + rule, one active alert per key (hub.alert_one_active_per_key). It matches the
 * correlation_id the outbound mapping builds (`iothub:{device}:{metric}:{check}`), metric `device` when absent.
 */
export function alertKey(deviceId: string, metric: string | null | undefined, rule: string): string {
  return `${deviceId}:${metric ?? 'device'}:${rule}`;
}

/** What raiseAlerts did, per event kind; `keys` lists the alert keys whose ticket intent changed. */
export interface RaiseOutcome {
  opened: number;
  repeated: number;
  escalated: number;
  cleared: number;
  /** Opened or kept as suppressed (maintenance). */
  suppressed: number;
  unsuppressed: number;
  /** Clears with no active alert. */
  ignored: number;
  /** Events skipped as already written (a retry of a write whose outcome was unknown; RaiseAlertsOptions.replay). */
  replayed: number;
  keys: string[];
}

export function emptyOutcome(): RaiseOutcome {
  return {
    opened: 0,
    repeated: 0,
    escalated: 0,
    cleared: 0,
    suppressed: 0,
    unsuppressed: 0,
    ignored: 0,
    replayed: 0,
    keys: [],
  };
}
