import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  batchTraceContext,
  contextFromHeaders,
  injectHeaders,
  newTraceparent,
  spanContextFromHeaders,
} from '../../../src/observability/index.ts';

const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('message headers', () => {
  it.each([
    ['a string', { traceparent: tp }],
    ['a Buffer (kafkajs)', { traceparent: Buffer.from(tp) }],
    ['a repeated header', { traceparent: [Buffer.from(tp), 'ignored'] }],
    ['a capitalised name', { Traceparent: tp }],
  ])('reads traceparent given as %s', (_label, headers) => {
    expect(spanContextFromHeaders(headers)).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
  });

  it('keeps tracestate next to traceparent', () => {
    const ctx = contextFromHeaders({ traceparent: tp, tracestate: 'vendor=abc' });
    expect(injectHeaders(ctx)).toEqual({ traceparent: tp, tracestate: 'vendor=abc' });
  });

  it.each([
    ['no headers', undefined],
    ['no traceparent', { 'content-type': 'application/json' }],
    ['a malformed traceparent', { traceparent: '00-xyz-b7ad6b7169203331-01' }],
    ['an all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` }],
  ])('finds no context with %s', (_label, headers) => {
    expect(spanContextFromHeaders(headers)).toBeNull();
    expect(trace.getSpanContext(contextFromHeaders(headers))).toBeUndefined();
  });

  it('injects nothing without a span', () => {
    expect(injectHeaders()).toEqual({});
  });

  it('makes fresh, valid, sampled traceparents', () => {
    const a = newTraceparent();
    const b = newTraceparent();
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(a.split('-')[1]).not.toBe(b.split('-')[1]);
    expect(spanContextFromHeaders({ traceparent: a })?.traceId).toBe(a.split('-')[1]);
  });
});

describe('batchTraceContext', () => {
  it('continues the one upstream span shared by every traced message', () => {
    const batch = batchTraceContext([{ traceparent: tp }, undefined, { traceparent: Buffer.from(tp) }]);
    expect(trace.getSpanContext(batch.parent!)?.spanId).toBe('b7ad6b7169203331');
    expect(batch.links).toEqual([]);
    expect(batch.attributes).toEqual({
      'messaging.batch.message_count.traced': 2,
      'iot_hub.batch.upstream_spans': 1,
    });
  });

  it('links distinct upstream spans once each, up to the limit', () => {
    const a = newTraceparent();
    const b = newTraceparent();
    const c = newTraceparent();
    const batch = batchTraceContext(
      [a, b, a, c].map((traceparent) => ({ traceparent })),
      2,
    );
    expect(batch.parent).toBeUndefined();
    expect(batch.links.map((l) => l.context.spanId)).toEqual([a.split('-')[2], b.split('-')[2]]);
    expect(batch.attributes).toEqual({
      'messaging.batch.message_count.traced': 4,
      'iot_hub.batch.upstream_spans': 3,
      'iot_hub.batch.links_dropped': 1,
    });
  });

  it('has neither parent nor links for a batch without trace headers', () => {
    const batch = batchTraceContext([{}, undefined]);
    expect(batch.parent).toBeUndefined();
    expect(batch.links).toEqual([]);
  });
});
