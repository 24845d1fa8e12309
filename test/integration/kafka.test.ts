import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createKafka,
  groupDefaults,
  type HubAdmin,
  type HubConsumer,
  type HubMessage,
} from '../../src/kafka/index.ts';

// kafkajs 2.2.4 against the real Kafka 4.1 broker: a smoke test of the client-broker pair (produce with and without
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

// How fast partitions move to the surviving member of a group: at once (a heartbeat or a fetch wait) when a member
// leaves cleanly, after the session timeout when it dies without leaving.
describe('consumer group hand-over', () => {
  const brokers = inject('kafkaBrokers');
  const kafka = createKafka({ brokers, clientId: 'test-handover' });
  const topic = `test.handover.${randomUUID().slice(0, 8)}`;
  const groups: string[] = [];
  let admin: HubAdmin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.ensureTopics([{ topic, partitions: 3 }]);
  });
  afterAll(async () => {
    await admin.deleteGroups(groups).catch(() => {});
    await admin.deleteTopics([topic]);
    await admin.disconnect();
  });

  const owned = (c: HubConsumer) => c.assignment()[topic]?.length ?? 0;
  async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<number> {
    const started = performance.now();
    while (!ok()) {
      if (performance.now() - started > timeoutMs)
        throw new Error(`${what} did not happen within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now() - started;
  }
  async function member(groupId: string): Promise<HubConsumer> {
    const c = kafka.consumer({ groupId });
    await c.connect();
    await c.subscribe([topic]);
    await c.run(async () => {});
    return c;
  }

  it('a member that stops cleanly leaves the group, and the other takes its partitions within seconds', async () => {
    const groupId = `test-handover-${randomUUID().slice(0, 8)}`;
    groups.push(groupId);
    const a = await member(groupId);
    await until('the first member owns all partitions', () => owned(a) === 3);
    const b = await member(groupId);
    await until('the partitions are shared', () => owned(b) > 0 && owned(a) + owned(b) === 3);
    const started = performance.now();
    await a.stop();
    await a.disconnect();
    await until('the survivor owns all partitions', () => owned(b) === 3);
    const ms = performance.now() - started;
    process.stderr.write(`[hand-over] clean stop: survivor owns all partitions after ${ms.toFixed(0)} ms\n`);
    expect(a.health().state).toBe('stopped');
    expect(ms).toBeLessThan(5000);
    await b.stop();
    await b.disconnect();
  });

  it('a member killed without leaving loses its partitions after the session timeout', async () => {
    const groupId = `test-handover-${randomUUID().slice(0, 8)}`;
    groups.push(groupId);
    const kafkaModule = fileURLToPath(new URL('../../src/kafka/index.ts', import.meta.url));
    // The doomed member runs in its own process so SIGKILL stops it with no LeaveGroup, as a crash would.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createKafka } = await import(${JSON.stringify(kafkaModule)});
         const c = createKafka({ brokers: ${JSON.stringify(brokers)}, clientId: 'test-handover-child' })
           .consumer({ groupId: ${JSON.stringify(groupId)} });
         c.onAssigned((a) => process.stdout.write('assigned ' + (a[${JSON.stringify(topic)}]?.length ?? 0) + '\\n'));
         await c.connect();
         await c.subscribe([${JSON.stringify(topic)}]);
         await c.run(async () => {});`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let childOwns = 0;
    child.stdout.on('data', (d: Buffer) => {
      const last = d.toString().trim().split('\n').at(-1)?.split(' ')[1];
      if (last !== undefined) childOwns = Number(last);
    });
    try {
      await until('the child owns all partitions', () => childOwns === 3);
      const b = await member(groupId);
      await until('the partitions are shared', () => owned(b) > 0 && owned(b) + childOwns === 3);
      const exited = new Promise((r) => child.once('exit', r));
      const started = performance.now();
      child.kill('SIGKILL');
      await exited;
      await until('the survivor owns all partitions', () => owned(b) === 3);
      const ms = performance.now() - started;
      process.stderr.write(
        `[hand-over] killed member: survivor owns all partitions after ${ms.toFixed(0)} ms ` +
          `(sessionTimeout ${groupDefaults.sessionTimeoutMs} ms)\n`,
      );
      // The coordinator notices the silence after sessionTimeout; then a heartbeat and a rejoin.
      expect(ms).toBeGreaterThan(groupDefaults.sessionTimeoutMs / 2);
      expect(ms).toBeLessThan(groupDefaults.sessionTimeoutMs + 5000);
      await b.stop();
      await b.disconnect();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
