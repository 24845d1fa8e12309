import { describe, expect, it } from 'vitest';
import { sendRecords } from '../../../src/devtools/simulator/kafka-sender.ts';
import type { SimRecord } from '../../../src/devtools/simulator/telemetry-stream.ts';
import type { HubProducer, OutgoingMessage } from '../../../src/kafka/index.ts';
import { batchTraceContext, spanContextFromHeaders } from '../../../src/observability/index.ts';

describe('simulator sender', () => {
  it('starts a trace per message, so a consumed batch links to its senders', async () => {
    const sent: OutgoingMessage[] = [];
    // In-memory stand-in for the broker: this is about the headers the sender writes, not about Kafka.
    const producer: HubProducer = {
      connect: async () => {},
      disconnect: async () => {},
      send: async (_topic, messages) => void sent.push(...messages),
    };
    const records: SimRecord[] = Array.from({ length: 5 }, (_, seq) => ({
      topic: 'telemetry.acme',
      key: 'dev-1',
      value: '{}',
      headers: { 'content-type': 'application/json', 'x-sim-seq': String(seq) },
      sendAtMs: 0,
      seq,
      facts: {
        topic: 'telemetry.acme',
        deviceId: 'dev-1',
        registered: true,
        invalid: null,
        duplicate: false,
        delivery: 'on_time',
        tsMs: 0,
        metrics: ['temperature'],
      },
    }));
    await sendRecords(producer, records, {
      batchSize: 10,
      rate: null,
      realtime: false,
      compression: 'none',
      onSent: () => {},
    });
    expect(sent.map((m) => m.headers?.['x-sim-seq'])).toEqual(['0', '1', '2', '3', '4']);
    const traceIds = sent.map((m) => spanContextFromHeaders(m.headers)?.traceId);
    expect(traceIds.every((id) => id && /^[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(new Set(traceIds).size).toBe(5);
    expect(batchTraceContext(sent.map((m) => m.headers)).links).toHaveLength(5);
  });
});
