export { type HubHttpServer, type ReadinessCheck, type RouteHandler, startHttpServer } from './http.ts';
export {
  type Condition,
  componentLogger,
  createCondition,
  createLogger,
  defaultLogger,
  type Logger,
  warnOnce,
} from './logger.ts';
export { counter, gauge, histogram, metricsRegistry } from './metrics.ts';
export {
  type BatchTraceContext,
  batchTraceContext,
  contextFromHeaders,
  injectHeaders,
  type MessageHeaders,
  maxBatchLinks,
  newTraceparent,
  spanContextFromHeaders,
} from './propagation.ts';
export { hubTracer, SpanKind, type WithSpanOptions, withSpan } from './spans.ts';
export { startTracing, stopTracing, type TracingOptions, tracingStarted } from './tracing.ts';
