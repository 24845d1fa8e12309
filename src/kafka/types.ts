import type { Logger } from '../observability/logger.ts';

/**
 * The hub's Kafka client interface. Pipelines depend on these types only, so the client library behind them
 * (kafkajs 2.2.4 today, frozen since 2023) can be replaced without touching a pipeline.
 */

/** One consumed record. Offsets are strings because Kafka offsets are int64. */
export interface HubMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  /** null for a tombstone. */
  value: Buffer | null;
  headers: Record<string, string>;
  /** Broker or producer timestamp, epoch milliseconds. */
  timestamp: number;
}

export interface OutgoingMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string>;
  partition?: number;
}

export interface HubProducer {
  connect(): Promise<void>;
  send(
    topic: string,
    messages: OutgoingMessage[],
    options?: { compression?: 'none' | 'gzip' },
  ): Promise<void>;
  disconnect(): Promise<void>;
}

/** A batch from one partition, handed to the consumer's batch handler. */
export interface MessageBatch {
  topic: string;
  partition: number;
  messages: HubMessage[];
  highWatermark: string;
}

/** Controls a handler uses while it works through a batch. */
export interface BatchControl {
  /** Keeps the group membership alive during long work; call between sub-steps. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping: finish or abandon the batch. */
  isRunning(): boolean;
  /** True when a rebalance made this batch stale: its partition may belong to another member now. */
  isStale(): boolean;
  /** Marks offsets up to and including `offset` as done, so Kafka's own commit can follow (an optimisation only). */
  resolveOffset(offset: string): void;
}

export interface ConsumerOptions {
  groupId: string;
  /** Where a group with no committed offset starts. */
  fromBeginning?: boolean;
  /**
   * A member that stops heartbeating (a killed process) loses its partitions after this long (default 10 000 ms).
   * A member that stops cleanly leaves the group at once.
   */
  sessionTimeoutMs?: number;
  /** Heartbeat period (default 1000 ms, at most a third of sessionTimeoutMs); also how fast a rebalance is seen. */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to finish their batch and rejoin (default 30 000 ms). */
  rebalanceTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /**
   * Partitions whose batches are handled at the same time. Above 1, one batch's database work overlaps the next
   * one's parsing and mapping; each batch still runs in order within its partition.
   */
  partitionsConcurrently?: number;
}

/**
 * What a consumer is doing, for readiness checks. `retrying`: batches fail on a dependency (the database) and are
 * retried in place; `crashed`: the client gave up and will not restart by itself.
 */
export interface ConsumerHealth {
  state: 'starting' | 'running' | 'retrying' | 'crashed' | 'stopped';
  /** Since when (epoch ms) the consumer has been in this state. */
  since: number;
  /** Why it is retrying, restarting or crashed. */
  error?: string;
}

export interface HubConsumer {
  connect(): Promise<void>;
  subscribe(topics: string[]): Promise<void>;
  /** Runs `handler` for each fetched batch until stop(); a throw retries the batch after a back-off. */
  run(handler: (batch: MessageBatch, control: BatchControl) => Promise<void>): Promise<void>;
  /** Called when the client gives up for good (it will not restart by itself). */
  onCrash(listener: (error: Error) => void): void;
  /** Current state, for /readyz. */
  health(): ConsumerHealth;
  /** Partitions currently assigned to this member, by topic. */
  assignment(): Record<string, number[]>;
  /** Called after each group join with the new assignment (kafkajs has no rebalance listener; this is its join event). */
  onAssigned(listener: (assignment: Record<string, number[]>) => void): void;
  /** Moves the fetch position of an assigned partition; only valid while run() is active. */
  seek(topic: string, partition: number, offset: string): void;
  stop(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions?: number;
  config?: Record<string, string>;
}

export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

export interface HubAdmin {
  connect(): Promise<void>;
  /** Creates the topics that are missing and waits until they have leaders; returns the names it created. */
  ensureTopics(topics: TopicSpec[]): Promise<string[]>;
  deleteTopics(topics: string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Committed offsets of a consumer group on a topic (-1 where none). */
  groupOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string }[]>;
  deleteGroups(groupIds: string[]): Promise<void>;
  describeCluster(): Promise<{
    clusterId: string;
    brokers: { nodeId: number; host: string; port: number }[];
  }>;
  disconnect(): Promise<void>;
}

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  /** Milliseconds to wait for a connection before giving up; small values make health checks quick. */
  connectionTimeoutMs?: number;
  /** Retries of the client's own retry layer; 0 fails fast (health checks). */
  retries?: number;
  /** The least severe client library lines logged (default 'warn'); 'nothing' for probes that report failures themselves. */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
  /** Where the client library's lines go (a child with component 'kafka'); default the process's shared logger. */
  logger?: Logger;
}

export interface HubKafka {
  producer(): HubProducer;
  consumer(options: ConsumerOptions): HubConsumer;
  admin(): HubAdmin;
}
