import { createRequire, syncBuiltinESMExports } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';

export interface TracingOptions {
  /** `service.name` of the spans. @defaultValue 'iot-hub' */
  serviceName?: string;
  /**
   * Where finished spans go. Default: OTLP over HTTP when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set, the
   * SDK's own choice when OTEL_TRACES_EXPORTER is set, and nowhere otherwise (spans still get real ids).
   */
  spanProcessors?: SpanProcessor[];
}

interface Running {
  sdk: NodeSDK;
  exporting: boolean;
}

let running: Running | null = null;
// Built on the first start, not at import: constructing an instrumentation already installs its require hook.
let instrumentations: Instrumentation[] | null = null;

/** Probes and scrapes would otherwise make a trace every few seconds. */
const quietPaths = /^\/(healthz|readyz|metrics)(\?|$)/;

/**
 * Starts OpenTelemetry for this process: a tracer provider, W3C propagation, and spans for PostgreSQL (pg),
 * Redis (ioredis) and HTTP (node:http/https, so also axios). Explicit and idempotent: importing this module
 * changes nothing; a second call returns the first call's result.
 *
 * It works whatever was imported before: the instrumentations patch shared prototypes, and each module is
 * required once more here so the require hook sees it (an ESM `import` of a CommonJS package does not pass
 * through that hook). See docs/observability.md.
 */
export function startTracing(options: TracingOptions | string = {}): { exporting: boolean } {
  if (running) return { exporting: running.exporting };
  const opts = typeof options === 'string' ? { serviceName: options } : options;
  const endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const envExporter = process.env.OTEL_TRACES_EXPORTER;
  const fromEnv = !opts.spanProcessors && !endpoint && Boolean(envExporter);
  const spanProcessors =
    opts.spanProcessors ??
    (endpoint
      ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })]
      : fromEnv
        ? undefined
        : // A provider with a no-op processor: spans get real trace ids (for logs and Kafka headers), nothing is sent.
          [new NoopSpanProcessor()]);

  const firstStart = instrumentations === null;
  instrumentations ??= createInstrumentations();
  const sdk = new NodeSDK({
    serviceName: opts.serviceName ?? 'iot-hub',
    spanProcessors,
    instrumentations,
    // Metrics go to Prometheus through prom-client and logs to stdout through pino: no OTel readers/exporters.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  // After a stopTracing(), the SDK sees the instrumentations as configured-enabled and skips them.
  if (!firstStart) for (const i of instrumentations) i.enable();
  requireInstrumentedModules();
  const exporting = Boolean(opts.spanProcessors) || Boolean(endpoint) || (fromEnv && envExporter !== 'none');
  running = { sdk, exporting };
  return { exporting: running.exporting };
}

/** Flushes and stops tracing, removes the patches and the global registrations, so startTracing can run again. */
export async function stopTracing(): Promise<void> {
  if (!running) return;
  const { sdk } = running;
  running = null;
  for (const i of instrumentations ?? []) i.disable();
  await sdk.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

/** Whether startTracing() has run (and stopTracing() not since). */
export function tracingStarted(): boolean {
  return running !== null;
}

function createInstrumentations(): Instrumentation[] {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => quietPaths.test(req.url ?? ''),
    }),
    // Only inside a stage's span: the pool's readiness probes and bullmq's blocking polls would be noise.
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
  ];
}

/**
 * The require hook patches a module when it is required, and an ESM import of a CommonJS package (pg,
 * ioredis) or of node:http does not go through it. Requiring them here runs the hook on the very objects the
 * ESM imports share (module cache, builtin exports), whether they were imported before or after this call.
 */
function requireInstrumentedModules(): void {
  const require = createRequire(import.meta.url);
  for (const id of ['node:http', 'node:https', 'ioredis', 'pg']) {
    try {
      require(id);
    } catch {
      // Not installed: nothing to instrument.
    }
  }
  try {
    // pg-pool belongs to pg; resolve it from there.
    createRequire(require.resolve('pg'))('pg-pool');
  } catch {
    // pg not installed, or a pg without pg-pool.
  }
  // `import { request } from 'node:http'` bindings follow the patched builtin only after this.
  syncBuiltinESMExports();
}
