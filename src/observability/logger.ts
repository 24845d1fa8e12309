import { trace } from '@opentelemetry/api';
import { type Logger, pino } from 'pino';

/**
 * The hub's JSON logger. Each line carries the active OpenTelemetry trace and span ids, so logs and traces join.
 * LOG_LEVEL overrides the configured level.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', name = 'iot-hub'): Logger {
  return pino({
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
  });
}

export type { Logger };
