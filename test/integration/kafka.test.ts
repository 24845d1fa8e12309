import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka, type HubAdmin, type HubMessage } from '../../src/kafka/index.ts';

// kafkajs 2.2.4 against the real Kafka 4.1 broker: the smoke test the reference asks for (produce with and without
// gzip, a consumer group from the beginning, committed offsets, topic deletion). Any UNSUPPORTED_VERSION fails here.
describe('kafka client against the real broker', () => {
  const kafka = createKafka({ brokers: inject('kafkaBrokers'), clientId: 'test-kafka' });
  const topic = `test.kafka.${randomUUID().slice(0, 8)}`;
  let admin: HubAdmin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it('creates a topic, produces plain and gzip batches, consumes them in a group and commits offsets', async () => {
    expect(await admin.ensureTopics([{ topic, partitions: 2 }])).toEqual([topic]);
    expect(await admin.ensureTopics([{ topic, partitions: 2 }])).toEqual([]);

    const producer = kafka.producer();
    await producer.connect();
    await producer.send(topic, [
      {
        key: 'dev-1',
        value: JSON.stringify({ n: 1 }),
        headers: { traceparent: '00-abc-def-01' },
        partition: 0,
      },
      { key: 'dev-2', value: JSON.stringify({ n: 2 }), partition: 1 },
    ]);
    await producer.send(
      topic,
      [
        { key: 'dev-1', value: JSON.stringify({ n: 3 }), partition: 0 },
        { key: 'dev-3', value: null, partition: 1 },
      ],
      { compression: 'gzip' },
    );
    await producer.disconnect();

    const offsets = await admin.topicOffsets(topic);
    expect(offsets.map((o) => [o.partition, o.high]).sort()).toEqual([
      [0, '2'],
      [1, '2'],
    ]);

    const groupId = `test-group-${randomUUID().slice(0, 8)}`;
    const consumer = kafka.consumer({ groupId, fromBeginning: true });
    const received: HubMessage[] = [];
    await consumer.connect();
    await consumer.subscribe([topic]);
    const done = new Promise<void>((resolve) => {
      void consumer.run(async (batch, control) => {
        for (const m of batch.messages) {
          received.push(m);
          control.resolveOffset(m.offset);
        }
        if (received.length >= 4) resolve();
      });
    });
    await done;
    // Kafka's commit happens after the handler; give the auto-commit a moment to flush on stop.
    await consumer.stop();
    await consumer.disconnect();

    const byValue = received.map((m) => ({
      key: m.key?.toString(),
      value: m.value?.toString() ?? null,
      p: m.partition,
    }));
    expect(byValue).toEqual(
      expect.arrayContaining([
        { key: 'dev-1', value: '{"n":1}', p: 0 },
        { key: 'dev-2', value: '{"n":2}', p: 1 },
        { key: 'dev-1', value: '{"n":3}', p: 0 },
        { key: 'dev-3', value: null, p: 1 },
      ]),
    );
    expect(received).toHaveLength(4);
    expect(received.find((m) => m.value?.toString() === '{"n":1}')?.headers.traceparent).toBe(
      '00-abc-def-01',
    );
    // Order within a partition is kept.
    expect(received.filter((m) => m.partition === 0).map((m) => m.offset)).toEqual(['0', '1']);

    const committed = await admin.groupOffsets(groupId, topic);
    expect(committed.map((c) => [c.partition, c.offset]).sort()).toEqual([
      [0, '2'],
      [1, '2'],
    ]);

    await admin.deleteGroups([groupId]);
    await admin.deleteTopics([topic]);
    expect(await admin.listTopics()).not.toContain(topic);
  });
});
