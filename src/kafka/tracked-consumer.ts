import type pg from 'pg';
import { inTransaction } from '../db/index.ts';
import type { HubConsumer, HubKafka, HubMessage, MessageBatch } from './types.ts';

/** What a batch handler sees: the messages not applied yet, and the open transaction to apply them in. */
export interface TrackedBatch {
  topic: string;
  partition: number;
  /** Messages at or above the stored next offset; replays below it were filtered out. */
  messages: HubMessage[];
  highWatermark: string;
}

export interface TrackedConsumerOptions {
  kafka: HubKafka;
  pool: pg.Pool;
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  partitionsConcurrently?: number;
  maxBytesPerPartition?: number;
  /** Applies the batch inside `client`'s open transaction; a throw rolls the batch back and retries it. */
  handle(batch: TrackedBatch, client: pg.PoolClient): Promise<void>;
  /** Called after each committed batch (metrics, lag). */
  onCommitted?(batch: TrackedBatch, filtered: number): void;
  onCrash?(error: Error): void;
}

/**
 * A consumer whose offsets live in PostgreSQL (hub.consumer_offsets), committed in the same transaction as the
 * rows a batch produced. The row lock on the offset serialises a zombie member against the partition's new
 * owner, and messages below the stored offset are filtered, so a replay after a crash or rebalance is a no-op.
 * Kafka's own commit follows the database commit and only saves refetching.
 */
export async function startTrackedConsumer(options: TrackedConsumerOptions): Promise<HubConsumer> {
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    fromBeginning: options.fromBeginning ?? true,
    sessionTimeoutMs: options.sessionTimeoutMs,
    partitionsConcurrently: options.partitionsConcurrently,
    maxBytesPerPartition: options.maxBytesPerPartition,
  });
  if (options.onCrash) consumer.onCrash(options.onCrash);
  // Start each assigned partition where the database says this group stopped. Only a shortcut: filtering below
  // is what makes replays harmless, so a failed or late seek costs refetching, never correctness.
  consumer.onAssigned((assignment) => {
    const topics = Object.keys(assignment);
    options.pool
      .query<{ topic: string; partition: number; next_offset: string | number }>(
        'SELECT topic, partition, next_offset FROM hub.consumer_offsets WHERE consumer_group = $1 AND topic = ANY($2)',
        [options.groupId, topics],
      )
      .then(({ rows }) => {
        for (const r of rows) {
          if (assignment[r.topic]?.includes(r.partition))
            consumer.seek(r.topic, r.partition, String(r.next_offset));
        }
      })
      .catch(() => {});
  });
  await consumer.connect();
  await consumer.subscribe(options.topics);
  void consumer.run(async (batch, control) => {
    if (batch.messages.length === 0) return;
    const last = batch.messages.at(-1)!.offset;
    let filtered = 0;
    const tracked = await inTransaction(options.pool, async (client, tx) => {
      const nextOffset = await lockOffset(client, options.groupId, batch);
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= nextOffset);
      filtered = batch.messages.length - fresh.length;
      const current: TrackedBatch = {
        topic: batch.topic,
        partition: batch.partition,
        messages: fresh,
        highWatermark: batch.highWatermark,
      };
      if (fresh.length > 0) await options.handle(current, client);
      // A member that lost the partition mid-batch must not commit: its successor owns the offset now.
      if (!control.isRunning() || control.isStale()) {
        tx.rollback();
        return null;
      }
      await client.query(
        `UPDATE hub.consumer_offsets SET next_offset = GREATEST(next_offset, $4), updated_at = now()
         WHERE consumer_group = $1 AND topic = $2 AND partition = $3`,
        [options.groupId, batch.topic, batch.partition, (BigInt(last) + 1n).toString()],
      );
      return current;
    });
    if (!tracked) return;
    control.resolveOffset(last);
    await control.heartbeat();
    options.onCommitted?.(tracked, filtered);
  });
  return consumer;
}

async function lockOffset(client: pg.PoolClient, groupId: string, batch: MessageBatch): Promise<bigint> {
  await client.query(
    `INSERT INTO hub.consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, 0)
     ON CONFLICT DO NOTHING`,
    [groupId, batch.topic, batch.partition],
  );
  const { rows } = await client.query<{ next_offset: string | number }>(
    'SELECT next_offset FROM hub.consumer_offsets WHERE consumer_group = $1 AND topic = $2 AND partition = $3 FOR UPDATE',
    [groupId, batch.topic, batch.partition],
  );
  return BigInt(rows[0]!.next_offset);
}
