import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AlertSeverity } from './alert-events.ts';

/** A limit: a fixed number, or the device's own measuring range from dw.dim_device. */
export type RuleLimit = number | 'device.range_max' | 'device.range_min';

/** A metric leaves its allowed band for long enough (connectors/alert-rules.yaml, `kind: threshold`). */
export interface ThresholdRule {
  kind: 'threshold';
  name: string;
  metric: string;
  /** Breach when the value is above (or below) the limit. */
  direction: 'above' | 'below';
  limit: RuleLimit;
  /** Minimum breach duration before the alert opens: a shorter excursion is flapping and opens nothing. */
  forMs: number;
  /** Minimum time back inside the band before the alert clears. */
  clearForMs: number;
  /** The value must come back past the limit by this much (metric units) to count as recovered. */
  hysteresis: number;
  severity: AlertSeverity;
  /** Escalation to `fail`: beyond the limit by `margin`, or open longer than `afterMs`. */
  escalate: { margin: number | null; afterMs: number | null };
}

/** No reading for `missedIntervals` × the device's expected interval (`kind: heartbeat`). */
export interface HeartbeatRule {
  kind: 'heartbeat';
  name: string;
  missedIntervals: number;
  /** Used for devices whose dim_device row has no expected_interval_s; null: such devices are not watched. */
  defaultIntervalMs: number | null;
  severity: AlertSeverity;
}

export type AlertRule = ThresholdRule | HeartbeatRule;

const severities: readonly AlertSeverity[] = ['info', 'warn', 'fail'];
const durationUnits: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses `90s`, `5m`, `1h`, `1500ms` (or a number of milliseconds). Throws a sentence naming the value. */
export function parseDuration(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim()) : null;
  if (!match)
    throw new Error(`${where}: invalid duration ${JSON.stringify(value)}; write e.g. 90s, 5m or 1h`);
  return Number(match[1]) * (durationUnits[match[2]!] ?? 1);
}

/** Reads and validates an alert rules file (connectors/alert-rules.yaml). Throws one sentence per problem. */
export function loadAlertRules(file: string): AlertRule[] {
  return parseAlertRules(readFileSync(file, 'utf8'), file);
}

/** Validates alert rules YAML text; `file` only labels the messages. */
export function parseAlertRules(text: string, file = 'alert-rules.yaml'): AlertRule[] {
  const doc = parse(text) as { rules?: unknown } | null;
  if (!doc || !Array.isArray(doc.rules)) throw new Error(`${file}: expected a top-level 'rules:' list`);
  const names = new Set<string>();
  return doc.rules.map((raw, i) => {
    const where = `${file}: rules[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: expected a mapping`);
    const r = raw as Record<string, unknown>;
    const name = r.name;
    if (typeof name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(name)) {
      throw new Error(
        `${where}: 'name' must be snake_case (it becomes part of the alert key and correlation_id)`,
      );
    }
    if (names.has(name)) throw new Error(`${where}: rule name '${name}' is used twice`);
    names.add(name);
    const severity = (r.severity ?? 'warn') as AlertSeverity;
    if (!severities.includes(severity))
      throw new Error(`${where}: severity must be one of ${severities.join(', ')}`);
    if (r.kind === 'heartbeat') {
      const missed = Number(r.missed_intervals ?? 3);
      if (!(missed >= 1)) throw new Error(`${where}: missed_intervals must be at least 1`);
      return {
        kind: 'heartbeat',
        name,
        missedIntervals: missed,
        defaultIntervalMs:
          r.default_interval === undefined
            ? null
            : parseDuration(r.default_interval, `${where}.default_interval`),
        severity,
      } satisfies HeartbeatRule;
    }
    if (r.kind !== 'threshold') throw new Error(`${where}: kind must be 'threshold' or 'heartbeat'`);
    if (typeof r.metric !== 'string' || r.metric === '') throw new Error(`${where}: 'metric' is required`);
    if ((r.above === undefined) === (r.below === undefined)) {
      throw new Error(`${where}: give exactly one of 'above' and 'below'`);
    }
    const direction = r.above !== undefined ? 'above' : 'below';
    const limit = r.above ?? r.below;
    if (!(typeof limit === 'number' || limit === 'device.range_max' || limit === 'device.range_min')) {
      throw new Error(`${where}: '${direction}' must be a number, device.range_max or device.range_min`);
    }
    const escalate = (r.escalate ?? {}) as Record<string, unknown>;
    const hysteresis = Number(r.hysteresis ?? 0);
    if (!(hysteresis >= 0)) throw new Error(`${where}: hysteresis must be a number ≥ 0`);
    return {
      kind: 'threshold',
      name,
      metric: r.metric,
      direction,
      limit,
      forMs: parseDuration(r.for ?? 0, `${where}.for`),
      clearForMs: parseDuration(r.clear_for ?? 0, `${where}.clear_for`),
      hysteresis,
      severity,
      escalate: {
        margin: escalate.margin === undefined ? null : Number(escalate.margin),
        afterMs:
          escalate.after === undefined ? null : parseDuration(escalate.after, `${where}.escalate.after`),
      },
    } satisfies ThresholdRule;
  });
}
