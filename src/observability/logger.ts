import { trace } from '@opentelemetry/api';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/**
 * The hub's JSON logger. Every line has one shape: `level` (a label: "info", "warn"...), `time` (ISO 8601),
 * `service`, `msg`, then `component` for lines from a child logger (kafka, db, ingest...) and the active
 * OpenTelemetry trace and span ids, so logs and traces join. Client libraries (kafkajs, knex, pg) log through
 * child loggers of this one (src/kafka/kafkajs.ts, src/db/index.ts) rather than printing lines of their own.
 * LOG_LEVEL overrides the configured level. `destination` defaults to stdout (tests pass a stream).
 */
export function createLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  name = 'iot-hub',
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

let fallback: Logger | undefined;

/**
 * The process's shared logger, for code that was not handed one (library helpers, tests). Created on first
 * use, so importing a module changes nothing.
 */
export function defaultLogger(): Logger {
  fallback ??= createLogger();
  return fallback;
}

/** The logger each component logger was made from, so a component of a component replaces the key. */
const componentRoots = new WeakMap<Logger, Logger>();

/**
 * A child logger whose lines carry `component` (and any other fixed fields), e.g. 'kafka', 'db', 'ingest'.
 * Given a parent that has a component already (the ingest's logger handed to the Kafka client), the new one
 * replaces it rather than repeating the key: pino would write `"component"` twice in one JSON line.
 */
export function componentLogger(
  parent: Logger | undefined,
  component: string,
  fields: Record<string, unknown> = {},
): Logger {
  const base = parent ?? defaultLogger();
  const { component: existing, ...inherited } = base.bindings();
  let child: Logger;
  let root = base;
  if (existing === undefined) child = base.child({ component, ...fields });
  else if (componentRoots.has(base)) {
    root = componentRoots.get(base)!;
    const rootKeys = new Set(Object.keys(root.bindings()));
    const kept = Object.fromEntries(
      Object.entries(inherited).filter(([k]) => !rootKeys.has(k) && !(k in fields)),
    );
    child = root.child({ ...kept, component, ...fields });
  } else {
    // Made by a plain .child({ component }): that key cannot be removed, so this level gets its own.
    child = base.child({ subcomponent: component, ...fields });
  }
  componentRoots.set(child, root);
  return child;
}

const warnedOnce = new WeakMap<Logger, Set<string>>();

/** Logs `msg` as a warning the first time `key` is seen for this logger; later calls are dropped. */
export function warnOnce(logger: Logger, key: string, fields: Record<string, unknown>, msg: string): boolean {
  let keys = warnedOnce.get(logger);
  if (!keys) {
    keys = new Set();
    warnedOnce.set(logger, keys);
  }
  if (keys.has(key)) return false;
  keys.add(key);
  logger.warn(fields, msg);
  return true;
}

/**
 * A recovering condition (a database outage, a broker that went away) logged as two lines instead of one per
 * occurrence: `begin` warns once when the condition starts and only counts later occurrences; `end` logs one
 * info line with how long it lasted and how many occurrences it saw, and does nothing if it was not active.
 */
export interface Condition {
  /** Records an occurrence; returns true when this one started the condition (and was logged). */
  begin(fields: Record<string, unknown>, msg: string): boolean;
  /** Ends the condition; returns what it saw, or null if it was not active. */
  end(fields?: Record<string, unknown>, msg?: string): { occurrences: number; durationMs: number } | null;
  readonly active: boolean;
  /** When the active condition started (epoch ms), or null. */
  readonly since: number | null;
  /** Occurrences of the active condition, the first included. */
  readonly occurrences: number;
}

export function createCondition(
  logger: Logger,
  name: string,
  options: { now?: () => number; level?: 'warn' | 'error' } = {},
): Condition {
  const now = options.now ?? Date.now;
  let since: number | null = null;
  let occurrences = 0;
  return {
    begin(fields, msg) {
      occurrences += 1;
      if (since !== null) return false;
      since = now();
      logger[options.level ?? 'warn']({ condition: name, ...fields }, msg);
      return true;
    },
    end(fields = {}, msg = `${name} recovered`) {
      if (since === null) return null;
      const seen = { occurrences, durationMs: now() - since };
      since = null;
      occurrences = 0;
      logger.info({ condition: name, ...seen, ...fields }, msg);
      return seen;
    },
    get active() {
      return since !== null;
    },
    get since() {
      return since;
    },
    get occurrences() {
      return occurrences;
    },
  };
}

export type { Logger };
