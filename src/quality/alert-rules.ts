import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError, validateYaml } from '../config/index.ts';
import type { AlertSeverity } from './alert-events.ts';

const require = createRequire(import.meta.url);
/** connectors/alert-rules.schema.json; connectors/alert-rules.yaml names it for editors too. */
const schema = require('../../connectors/alert-rules.schema.json') as object;

/** A limit: a fixed number, or the device's own measuring range from dw.dim_device. */
export type RuleLimit = number | 'device.range_max' | 'device.range_min';

/** A metric leaves its allowed band for long enough (connectors/alert-rules.yaml, `kind: threshold`). */
export interface ThresholdRule {
  kind: 'threshold';
  name: string;
  metric: string;
  /** `file:line:col: rules[i].metric` when read from a file, for messages about the metric code. */
  metricAt?: string;
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
    throw new ConfigError(`${where}: invalid duration ${JSON.stringify(value)}; write e.g. 90s, 5m or 1h`);
  return Number(match[1]) * (durationUnits[match[2]!] ?? 1);
}

/** Reads and validates an alert rules file (connectors/alert-rules.yaml). Throws one line per problem. */
export function loadAlertRules(file: string): AlertRule[] {
  return parseAlertRules(readFileSync(file, 'utf8'), file);
}

/** A rule as written, once connectors/alert-rules.schema.json has accepted it. */
interface RuleYaml {
  name: string;
  kind: 'threshold' | 'heartbeat';
  severity?: AlertSeverity;
  metric: string;
  above?: RuleLimit;
  below?: RuleLimit;
  for?: unknown;
  clear_for?: unknown;
  hysteresis?: number;
  escalate?: { margin?: number; after?: unknown };
  missed_intervals?: number;
  default_interval?: unknown;
}

/**
 * Validates alert rules YAML text; `file` only labels the messages. The schema checks the shape (keys, kinds,
 * names, limits); this adds what it cannot say: unique names and durations, each with its line and column.
 */
export function parseAlertRules(text: string, file = 'alert-rules.yaml'): AlertRule[] {
  const doc = validateYaml<{ rules: RuleYaml[] }>(text, file, schema);
  const names = new Set<string>();
  return doc.value.rules.map((r, i) => {
    const at = (...path: (string | number)[]) => doc.at(['rules', i, ...path]);
    if (names.has(r.name)) throw new ConfigError(`${at('name')}: rule name '${r.name}' is used twice`);
    names.add(r.name);
    const severity = r.severity ?? 'warn';
    if (r.kind === 'heartbeat') {
      return {
        kind: 'heartbeat',
        name: r.name,
        missedIntervals: r.missed_intervals ?? 3,
        defaultIntervalMs:
          r.default_interval === undefined ? null : parseDuration(r.default_interval, at('default_interval')),
        severity,
      } satisfies HeartbeatRule;
    }
    const direction = r.above !== undefined ? 'above' : 'below';
    return {
      kind: 'threshold',
      name: r.name,
      metric: r.metric,
      metricAt: at('metric'),
      direction,
      // The schema requires exactly one of the two.
      limit: (r.above ?? r.below)!,
      forMs: parseDuration(r.for ?? 0, at('for')),
      clearForMs: parseDuration(r.clear_for ?? 0, at('clear_for')),
      hysteresis: r.hysteresis ?? 0,
      severity,
      escalate: {
        margin: r.escalate?.margin ?? null,
        afterMs:
          r.escalate?.after === undefined ? null : parseDuration(r.escalate.after, at('escalate', 'after')),
      },
    } satisfies ThresholdRule;
  });
}

/**
 * Checks that every threshold rule names a metric code dw.dim_metric has (`codes`); a rule on a code no
 * reading can carry would never fire. Throws one line per unknown code, with its file, line and column.
 */
export function checkRuleMetrics(rules: readonly AlertRule[], codes: ReadonlySet<string>): void {
  const known = [...codes].sort().join(', ');
  const problems = rules
    .filter((r): r is ThresholdRule => r.kind === 'threshold' && !codes.has(r.metric))
    .map(
      (r) =>
        `${r.metricAt ?? `rule ${r.name}: metric`}: '${r.metric}' is not a metric code in dw.dim_metric; known: ${known}`,
    );
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
}
