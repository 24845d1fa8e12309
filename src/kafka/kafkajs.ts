import {
  type Admin,
  CompressionTypes,
  type Consumer,
  type IHeaders,
  Kafka,
  type KafkaMessage,
  type LogEntry,
  type logCreator,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { componentLogger, type Logger } from '../observability/logger.ts';
import type {
  ConsumerHealth,
  ConsumerOptions,
  HubAdmin,
  HubConsumer,
  HubKafka,
  HubMessage,
  HubProducer,
  KafkaConnection,
} from './types.ts';

let timeoutWarningSilenced = false;

/**
 * kafkajs 2.2.4 schedules a timer with a negative delay, which Node 24 reports as TimeoutNegativeWarning on every
 * connection (unfixed upstream). Node clamps the delay to 1 ms, so the warning is noise: this drops that one
 * warning and passes every other to the listeners that were there before. Process-wide, so the hub calls it once
 * at start rather than on import; calling it again does nothing.
 */
export function silenceKafkajsTimeoutWarning(): void {
  if (timeoutWarningSilenced) return;
  timeoutWarningSilenced = true;
  const defaultWarningListeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    for (const listener of defaultWarningListeners) listener(warning);
  });
}

const logLevels = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

type PinoLevel = 'error' | 'warn' | 'info' | 'debug';

const pinoLevels: Record<number, PinoLevel> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs lines whose level misleads an operator. A consumer crash is logged by kafkajs before it knows whether
 * it restarts; the CRASH event handler in wrapConsumer logs it with the outcome instead. A rebalance is routine.
 */
function reclassify(message: string, level: PinoLevel): PinoLevel {
  if (message.startsWith('Crash: ') || message.startsWith('Restarting the consumer in')) return 'debug';
  if (message === 'The group is rebalancing, re-joining') return 'info';
  // An error response from a broker ("Response GroupCoordinator(...)": coordinator not available yet, leader moved)
  // is retried by kafkajs; only the failure of the retried call is an error, and the caller reports that.
  if (level === 'error' && message.startsWith('Response ')) return 'warn';
  // The hub's batch handlers report their own failures; kafkajs's copy is a retry notice.
  if (message === 'Error when calling eachBatch') return 'warn';
  return level;
}

/**
 * Routes kafkajs log entries to pino with the hub's line shape: component 'kafka', the client id once (from the
 * child logger), the kafkajs module as `kafkajs`, an Error as `err` (pino serialises only that key), and the
 * stack only on errors.
 */
export function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const {
        message,
        timestamp: _t,
        logger: _l,
        clientId: _c,
        stack,
        error,
        ...fields
      } = log as LogEntry['log'] & { stack?: string; error?: unknown; clientId?: string };
      const mapped = reclassify(message, pinoLevels[level] ?? 'info');
      const line = {
        kafkajs: namespace || undefined,
        ...fields,
        ...(error instanceof Error ? { err: error } : error === undefined ? {} : { error }),
        ...(mapped === 'error' && stack ? { stack } : {}),
      };
      logger[mapped](line, message);
    };
}

/** The kafkajs implementation of the hub's Kafka interface. */
export function createKafkajsClient(connection: KafkaConnection): HubKafka {
  const logger = componentLogger(connection.logger, 'kafka', { clientId: connection.clientId });
  const kafka = new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    connectionTimeout: connection.connectionTimeoutMs ?? 3000,
    logLevel: logLevels[connection.logLevel ?? 'warn'],
    logCreator: pinoLogCreator(logger),
    retry: { retries: connection.retries ?? 8, initialRetryTime: 200 },
  });
  return {
    producer: () =>
      wrapProducer(
        kafka.producer({
          allowAutoTopicCreation: false,
          idempotent: false,
          // kafkajs 2's default, named so it does not warn that the default changed in 2.0.
          createPartitioner: Partitioners.DefaultPartitioner,
        }),
      ),
    consumer: (options) => wrapConsumer(kafka, options, logger),
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

/** Group membership defaults: a member that dies without leaving loses its partitions after sessionTimeout. */
export const groupDefaults = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  /** How long the coordinator waits for members to rejoin in a rebalance: a batch must finish within it. */
  rebalanceTimeoutMs: 30_000,
  /**
   * Longest a fetch waits for data. An idle member heartbeats only between fetches, so this also bounds how late
   * it notices a rebalance (kafkajs's 5 s default delayed every hand-over by up to 5 s). Data still returns at once.
   */
  fetchMaxWaitMs: 1000,
};

function wrapConsumer(kafka: Kafka, options: ConsumerOptions, logger: Logger): HubConsumer {
  const sessionTimeout = options.sessionTimeoutMs ?? groupDefaults.sessionTimeoutMs;
  const c: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout,
    // Frequent heartbeats let a surviving member learn of a rebalance (a member joined or left) within a second.
    heartbeatInterval: Math.min(
      options.heartbeatIntervalMs ?? groupDefaults.heartbeatIntervalMs,
      Math.floor(sessionTimeout / 3),
    ),
    rebalanceTimeout: options.rebalanceTimeoutMs ?? groupDefaults.rebalanceTimeoutMs,
    maxWaitTimeInMs: groupDefaults.fetchMaxWaitMs,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    maxBytes: 4 * (options.maxBytesPerPartition ?? 1024 * 1024),
    // Offsets the hub relies on live in PostgreSQL; Kafka's committed offset only saves refetching.
    retry: { retries: 10 },
  });
  const log = logger.child({ groupId: options.groupId });
  let assigned: Record<string, number[]> = {};
  let health: ConsumerHealth = { state: 'starting', since: Date.now() };
  const setHealth = (state: ConsumerHealth['state'], error?: string) => {
    if (health.state !== state || health.error !== error) health = { state, since: Date.now(), error };
  };
  const crashListeners: ((e: Error) => void)[] = [];
  const assignedListeners: ((a: Record<string, number[]>) => void)[] = [];
  c.on(c.events.GROUP_JOIN, (e) => {
    assigned = e.payload.memberAssignment as Record<string, number[]>;
    setHealth('running');
    for (const l of assignedListeners) l(assigned);
  });
  c.on(c.events.CRASH, (e) => {
    const error = e.payload.error;
    const detail = { err: { type: error.name, message: error.message }, cause: rootCause(error) };
    // kafkajs restarts by itself when `restart` is true; otherwise it sits idle, which the hub must surface.
    if (e.payload.restart) {
      setHealth('starting', `restarting after ${error.name}: ${error.message}`);
      log.warn(
        detail,
        'Kafka consumer failed and is restarting; its partitions resume after the group rejoins',
      );
      return;
    }
    setHealth('crashed', `${error.name}: ${error.message}`);
    log.error(detail, 'Kafka consumer stopped for good; restart the hub');
    for (const l of crashListeners) l(error);
  });
  return {
    connect: () => c.connect(),
    // kafkajs stops the consumer (and leaves the group) before closing its connections.
    disconnect: async () => {
      await c.disconnect();
      setHealth('stopped');
    },
    // stop() leaves the group (LeaveGroup), so the partitions move to another member within a second or two
    // instead of after sessionTimeout.
    stop: async () => {
      await c.stop();
      setHealth('stopped');
    },
    assignment: () => assigned,
    health: () => health,
    onAssigned: (l) => void assignedListeners.push(l),
    seek: (topic, partition, offset) => c.seek({ topic, partition, offset }),
    onCrash: (l) => void crashListeners.push(l),
    async subscribe(topics) {
      await c.subscribe({ topics, fromBeginning: options.fromBeginning ?? true });
    },
    async run(handler) {
      setHealth('starting');
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

function rootCause(error: Error): string | undefined {
  let e: unknown = error;
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause)
    e = (e as { cause: unknown }).cause;
  return e === error || !(e instanceof Error) ? undefined : `${e.name}: ${e.message}`;
}
