import { randomBytes } from 'node:crypto';
import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type SpanContext,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** Message headers as Kafka clients hand them over: kafkajs gives Buffers, producers may set strings. */
export type MessageHeaders = Readonly<
  Record<string, string | Buffer | readonly (string | Buffer)[] | undefined>
>;

/** At most this many links on a batch span; a batch of 500 messages would otherwise carry 500 links. */
export const maxBatchLinks = 32;

// Used directly rather than through the global propagator, so parsing and writing headers work (and are the
// same W3C format) whether or not startTracing() has run.
const w3c = new W3CTraceContextPropagator();

const headerGetter: TextMapGetter<MessageHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    // Kafka header names are case-sensitive; W3C asks for lowercase, some producers capitalise.
    const raw = carrier[key] ?? carrier[Object.keys(carrier).find((k) => k.toLowerCase() === key) ?? ''];
    const first = Array.isArray(raw) ? raw[0] : raw;
    return first === undefined ? undefined : first.toString();
  },
};

/**
 * The context a message's `traceparent` / `tracestate` headers carry, on top of `base` (default: the root
 * context, so a message without headers starts a new trace instead of joining whatever is active).
 */
export function contextFromHeaders(
  headers: MessageHeaders | undefined,
  base: Context = ROOT_CONTEXT,
): Context {
  return headers ? w3c.extract(base, headers, headerGetter) : base;
}

/** The span context a message's headers carry, or null when they carry none (or a malformed one). */
export function spanContextFromHeaders(headers: MessageHeaders | undefined): SpanContext | null {
  const sc = trace.getSpanContext(contextFromHeaders(headers));
  return sc && isSpanContextValid(sc) ? sc : null;
}

/** `traceparent` (and `tracestate`) for `ctx` (default: the active context); empty when it has no span. */
export function injectHeaders(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  w3c.inject(ctx, headers, {
    set: (carrier, key, value) => {
      carrier[key] = value;
    },
  });
  return headers;
}

/**
 * A fresh `traceparent` for a sender without a tracer (the simulator): a new random trace id and span id,
 * sampled. One randomBytes call, no SDK.
 */
export function newTraceparent(): string {
  const hex = randomBytes(24).toString('hex');
  // All-zero ids are invalid in W3C trace context; astronomically unlikely, but cheap to rule out.
  const traceId = hex.slice(0, 32) === zeroTraceId ? `${zeroTraceId.slice(0, 31)}1` : hex.slice(0, 32);
  const spanId = hex.slice(32) === zeroSpanId ? `${zeroSpanId.slice(0, 15)}1` : hex.slice(32);
  return `00-${traceId}-${spanId}-01`;
}

const zeroTraceId = '0'.repeat(32);
const zeroSpanId = '0'.repeat(16);

/** How a span over a batch of messages relates to the messages' own traces. */
export interface BatchTraceContext {
  /** The one upstream context when every traced message in the batch has the same parent; else undefined. */
  parent: Context | undefined;
  /** One link per distinct upstream span (at most maxBatchLinks), when there is more than one. */
  links: Link[];
  /** Counts for the span: how many messages carried a context, how many distinct, how many links dropped. */
  attributes: Attributes;
}

/**
 * Decides the parent and links of a batch span (docs/observability.md, "Batches"): a batch whose traced
 * messages all share one upstream span continues that trace as its child; a batch mixing several upstream
 * spans starts its own trace and links to each of them, up to `limit` links (the first distinct ones).
 */
export function batchTraceContext(
  headersOfMessages: Iterable<MessageHeaders | undefined>,
  limit = maxBatchLinks,
): BatchTraceContext {
  const distinct = new Map<string, SpanContext>();
  let traced = 0;
  for (const headers of headersOfMessages) {
    const sc = spanContextFromHeaders(headers);
    if (!sc) continue;
    traced += 1;
    const key = `${sc.traceId}-${sc.spanId}`;
    if (!distinct.has(key)) distinct.set(key, sc);
  }
  const contexts = [...distinct.values()];
  const attributes: Attributes = {
    'messaging.batch.message_count.traced': traced,
    'iot_hub.batch.upstream_spans': contexts.length,
  };
  if (contexts.length === 1) {
    return { parent: trace.setSpanContext(ROOT_CONTEXT, contexts[0]!), links: [], attributes };
  }
  const links = contexts.slice(0, limit).map((sc) => ({ context: sc }));
  if (contexts.length > limit) attributes['iot_hub.batch.links_dropped'] = contexts.length - limit;
  return { parent: undefined, links, attributes };
}
