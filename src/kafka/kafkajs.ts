import {
  type Admin,
  CompressionTypes,
  type Consumer,
  type IHeaders,
  Kafka,
  type KafkaMessage,
  logLevel,
  type Producer,
} from 'kafkajs';
import type {
  ConsumerOptions,
  HubAdmin,
  HubConsumer,
  HubKafka,
  HubMessage,
  HubProducer,
  KafkaConnection,
} from './types.ts';

// kafkajs 2.2.4 schedules a timer with a negative delay, which Node 24 reports as TimeoutNegativeWarning on every
// connection (kafkajs#1751, unfixed upstream). Node clamps the delay to 1 ms, so the warning is noise: drop that one.
const defaultWarningListeners = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'TimeoutNegativeWarning') return;
  for (const listener of defaultWarningListeners) listener(warning);
});

const logLevels = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
};

/** The kafkajs implementation of the hub's Kafka interface. */
export function createKafkajsClient(connection: KafkaConnection): HubKafka {
  const kafka = new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    connectionTimeout: connection.connectionTimeoutMs ?? 3000,
    logLevel: logLevels[connection.logLevel ?? 'error'],
    retry: { retries: connection.retries ?? 8, initialRetryTime: 200 },
  });
  return {
    producer: () => wrapProducer(kafka.producer({ allowAutoTopicCreation: false, idempotent: false })),
    consumer: (options) => wrapConsumer(kafka, options),
    admin: () => wrapAdmin(kafka.admin()),
  };
}

function wrapProducer(p: Producer): HubProducer {
  return {
    connect: () => p.connect(),
    disconnect: () => p.disconnect(),
    async send(topic, messages, options) {
      await p.send({
        topic,
        acks: -1,
        compression: options?.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: messages.map((m) => ({
          key: m.key ?? null,
          value: m.value,
          headers: m.headers,
          partition: m.partition,
        })),
      });
    },
  };
}

function toHubMessage(topic: string, partition: number, m: KafkaMessage): HubMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    headers: decodeHeaders(m.headers),
    timestamp: Number(m.timestamp),
  };
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

function wrapConsumer(kafka: Kafka, options: ConsumerOptions): HubConsumer {
  const c: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    maxBytes: 4 * (options.maxBytesPerPartition ?? 1024 * 1024),
    // Offsets the hub relies on live in PostgreSQL; Kafka's committed offset only saves refetching.
    retry: { retries: 10 },
  });
  let assigned: Record<string, number[]> = {};
  const crashListeners: ((e: Error) => void)[] = [];
  const assignedListeners: ((a: Record<string, number[]>) => void)[] = [];
  c.on(c.events.GROUP_JOIN, (e) => {
    assigned = e.payload.memberAssignment as Record<string, number[]>;
    for (const l of assignedListeners) l(assigned);
  });
  c.on(c.events.CRASH, (e) => {
    // kafkajs restarts by itself when `restart` is true; otherwise it sits idle, which the hub must surface.
    if (!e.payload.restart) for (const l of crashListeners) l(e.payload.error);
  });
  return {
    connect: () => c.connect(),
    disconnect: () => c.disconnect(),
    stop: () => c.stop(),
    assignment: () => assigned,
    onAssigned: (l) => void assignedListeners.push(l),
    seek: (topic, partition, offset) => c.seek({ topic, partition, offset }),
    onCrash: (l) => void crashListeners.push(l),
    async subscribe(topics) {
      await c.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
    },
    async run(handler) {
      await c.run({
        autoCommit: true,
        autoCommitInterval: 5000,
        // Commit after every batch: cheap, and it keeps the group's lag metric honest.
        autoCommitThreshold: 1,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
        eachBatch: async ({
          batch,
          heartbeat,
          isRunning,
          isStale,
          resolveOffset,
          commitOffsetsIfNecessary,
        }) => {
          await handler(
            {
              topic: batch.topic,
              partition: batch.partition,
              highWatermark: batch.highWatermark,
              messages: batch.messages.map((m) => toHubMessage(batch.topic, batch.partition, m)),
            },
            { heartbeat, isRunning, isStale, resolveOffset },
          );
          await commitOffsetsIfNecessary();
        },
      });
    },
  };
}

function wrapAdmin(a: Admin): HubAdmin {
  return {
    connect: () => a.connect(),
    disconnect: () => a.disconnect(),
    listTopics: () => a.listTopics(),
    deleteTopics: (topics) => a.deleteTopics({ topics, timeout: 10_000 }),
    deleteGroups: async (groupIds) => {
      await a.deleteGroups(groupIds);
    },
    async ensureTopics(specs) {
      const existing = new Set(await a.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length > 0) {
        await a.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions ?? 1,
            replicationFactor: 1,
            configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
      }
      return missing.map((s) => s.topic);
    },
    async topicOffsets(topic) {
      const offsets = await a.fetchTopicOffsets(topic);
      return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
    },
    async groupOffsets(groupId, topic) {
      const [entry] = await a.fetchOffsets({ groupId, topics: [topic] });
      return (entry?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset }));
    },
    async describeCluster() {
      const d = await a.describeCluster();
      return { clusterId: d.clusterId, brokers: d.brokers };
    },
  };
}
