export { type HubHttpServer, type ReadinessCheck, type RouteHandler, startHttpServer } from './http.ts';
export { createLogger, type Logger } from './logger.ts';
export { counter, gauge, histogram, metricsRegistry } from './metrics.ts';
export { startTracing, stopTracing } from './tracing.ts';
