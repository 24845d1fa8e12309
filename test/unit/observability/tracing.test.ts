// Needs the local PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) that `iot-hub stack up` starts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
// Imported before startTracing() on purpose: the hub imports them first too, and they must still be traced.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchTraceContext,
  contextFromHeaders,
  hubTracer,
  injectHeaders,
  newTraceparent,
  startTracing,
  stopTracing,
  tracingStarted,
  withSpan,
} from '../../../src/observability/index.ts';

const exporter = new InMemorySpanExporter();
const isWrapped = (fn: unknown) => Boolean((fn as { __wrapped?: unknown }).__wrapped);

function finished(name: string | RegExp): ReadableSpan[] {
  return exporter
    .getFinishedSpans()
    .filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
}

describe('before startTracing', () => {
  it('importing the observability module changed nothing process-wide', () => {
    expect(tracingStarted()).toBe(false);
    expect(hubTracer().startSpan('probe').spanContext().traceId).toBe('0'.repeat(32));
    expect(isWrapped(pg.Client.prototype.query)).toBe(false);
    expect(isWrapped(Redis.prototype.sendCommand)).toBe(false);
    expect(isWrapped(http.request)).toBe(false);
  });
});

describe('tracing', () => {
  beforeAll(() => {
    startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    // Idempotent: a second call neither throws nor registers a second provider.
    expect(startTracing()).toEqual({ exporting: true });
  });
  afterAll(async () => {
    await stopTracing();
    expect(isWrapped(pg.Client.prototype.query)).toBe(false);
  });

  it('traces a pg query inside a stage span', async () => {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await client.connect();
    try {
      const stage = await withSpan('test.pg', {}, async (span) => {
        await client.query('SELECT 1 AS one');
        return span.spanContext();
      });
      // The pg span ends in the instrumentation's callback, which may run after the query's promise settles.
      const deadline = Date.now() + 5000;
      while (finished(/^pg\.query/).length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      const [query] = finished(/^pg\.query/);
      expect(query?.spanContext().traceId).toBe(stage.traceId);
      expect(query?.parentSpanContext?.spanId).toBe(stage.spanId);
      expect(query?.attributes['db.system.name'] ?? query?.attributes['db.system']).toBe('postgresql');
    } finally {
      await client.end();
    }
  });

  it('traces an ioredis command inside a stage span', async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const stage = await withSpan('test.redis', {}, async (span) => {
        await redis.get('iot-hub-test:tracing:absent');
        return span.spanContext();
      });
      const [get] = finished('get');
      expect(get?.spanContext().traceId).toBe(stage.traceId);
      expect(get?.parentSpanContext?.spanId).toBe(stage.spanId);
    } finally {
      redis.disconnect();
    }
  });

  it('traces HTTP both ways with the trace carried in the request, and skips probe paths', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (path: string) =>
      new Promise<void>((resolve, reject) =>
        http
          .get(`http://127.0.0.1:${port}${path}`, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject),
      );
    try {
      await withSpan('test.http', {}, () => get('/things'));
      await withSpan('test.probe', {}, () => get('/healthz'));
    } finally {
      server.close();
    }
    const [parent] = finished('test.http');
    const inThatTrace = exporter
      .getFinishedSpans()
      .filter((s) => s.spanContext().traceId === parent?.spanContext().traceId);
    const client = inThatTrace.find((s) => s.kind === 2);
    const serverSpan = inThatTrace.find((s) => s.kind === 1);
    expect(client?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(serverSpan?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
    // The probe's client span exists (the server answered before it ended), its server span does not.
    const [probe] = finished('test.probe');
    const probeTrace = exporter
      .getFinishedSpans()
      .filter((s) => s.spanContext().traceId === probe?.spanContext().traceId);
    expect(probeTrace.map((s) => s.kind).sort()).toEqual([0, 2]);
  });

  it('continues the trace of a message traceparent, and injects the new span into outgoing headers', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const headers = withSpan('test.message', {}, () => injectHeaders(), {
      parent: contextFromHeaders({ traceparent: Buffer.from(traceparent) }),
    });
    const [span] = finished('test.message');
    expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(headers.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${span?.spanContext().spanId}-01`);
  });

  it('links a mixed batch span to at most 32 message spans, in a trace of its own', () => {
    const messages = Array.from({ length: 40 }, () => ({ traceparent: newTraceparent() }));
    const batch = batchTraceContext(messages);
    withSpan('test.batch', batch.attributes, () => {}, batch);
    const [span] = finished('test.batch');
    expect(span?.links).toHaveLength(32);
    expect(span?.links[0]?.context.traceId).toBe(messages[0]?.traceparent.split('-')[1]);
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.attributes['iot_hub.batch.links_dropped']).toBe(8);
  });

  it('makes a batch whose messages share one parent a child of that parent', () => {
    const traceparent = newTraceparent();
    const batch = batchTraceContext([{ traceparent }, { traceparent }, {}]);
    withSpan('test.batch-one', batch.attributes, () => {}, batch);
    const [span] = finished('test.batch-one');
    expect(span?.spanContext().traceId).toBe(traceparent.split('-')[1]);
    expect(span?.parentSpanContext?.spanId).toBe(traceparent.split('-')[2]);
    expect(span?.links).toEqual([]);
  });

  it('records a failure on the span and rethrows it', async () => {
    await expect(
      withSpan('test.fail', {}, async () => {
        throw new Error('broker gone');
      }),
    ).rejects.toThrow('broker gone');
    expect(() =>
      withSpan('test.fail-sync', {}, () => {
        throw new Error('bad row');
      }),
    ).toThrow('bad row');
    for (const name of ['test.fail', 'test.fail-sync']) {
      const [span] = finished(name);
      expect(span?.status.code).toBe(SpanStatusCode.ERROR);
      expect(span?.events.map((e) => e.name)).toContain('exception');
    }
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});

describe('after stopTracing', () => {
  it('starts again and instruments again', async () => {
    const again = new InMemorySpanExporter();
    startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter: again })] });
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    try {
      await client.connect();
      await withSpan('test.restart', {}, () => client.query('SELECT 1'));
      expect(again.getFinishedSpans().map((s) => s.name)).toContain('test.restart');
      expect(again.getFinishedSpans().some((s) => s.name.startsWith('pg.query'))).toBe(true);
    } finally {
      await client.end();
      await stopTracing();
    }
  });
});
