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
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /**
   * Partitions whose batches are handled at the same time. Above 1, one batch's database work overlaps the next
   * one's parsing and mapping; each batch still runs in order within its partition.
   */
  partitionsConcurrently?: number;
}

export interface HubConsumer {
  connect(): Promise<void>;
  subscribe(topics: string[]): Promise<void>;
  /** Runs `handler` for each fetched batch until stop(); a throw retries the batch after a back-off. */
  run(handler: (batch: MessageBatch, control: BatchControl) => Promise<void>): Promise<void>;
  /** Called when the client gives up for good (it will not restart by itself). */
  onCrash(listener: (error: Error) => void): void;
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
  /** The client library's own log output (to stderr); 'nothing' for probes that report failures themselves. */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info';
}

export interface HubKafka {
  producer(): HubProducer;
  consumer(options: ConsumerOptions): HubConsumer;
  admin(): HubAdmin;
}
