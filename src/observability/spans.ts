import {
  type Attributes,
  type Context,
  context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';

export { SpanKind };

/**
 * The hub's tracer. Looked up on each call (cheap, cached by the provider) rather than held, so spans follow
 * the provider that startTracing() registered even after a stop and a new start.
 */
export function hubTracer(): Tracer {
  return trace.getTracer('iot-hub');
}

export interface WithSpanOptions {
  /** Parent context, e.g. from contextFromHeaders(); default: the active context. */
  parent?: Context;
  /** Causal links to other spans, e.g. every message of a Kafka batch (see batchTraceContext()). */
  links?: Link[];
  /** @defaultValue SpanKind.INTERNAL */
  kind?: SpanKind;
}

/**
 * Runs `fn` inside a new active span (so logs, pg/Redis/HTTP spans and injectHeaders() see it) and ends the
 * span when `fn` returns or its promise settles. A throw or rejection is recorded on the span, sets its status
 * to ERROR and is rethrown; success leaves the status unset, as OpenTelemetry recommends.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => T,
  options: WithSpanOptions = {},
): T {
  const parent = options.parent ?? context.active();
  return hubTracer().startActiveSpan(
    name,
    { attributes, links: options.links, kind: options.kind ?? SpanKind.INTERNAL },
    parent,
    (span) => {
      let result: T;
      try {
        result = fn(span);
      } catch (err) {
        fail(span, err);
        span.end();
        throw err;
      }
      if (isPromiseLike(result)) {
        return result.then(
          (value) => {
            span.end();
            return value;
          },
          (err: unknown) => {
            fail(span, err);
            span.end();
            throw err;
          },
        ) as T;
      }
      span.end();
      return result;
    },
  );
}

function fail(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  else span.recordException(String(err));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: err instanceof Error ? err.message : String(err),
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
