import type pg from 'pg';
import { dbErrorCode, inTransaction, isTransientDbError } from '../db/index.ts';
import { componentLogger, createCondition, type Logger } from '../observability/logger.ts';
import type {
  BatchControl,
  ConsumerHealth,
  HubConsumer,
  HubKafka,
  HubMessage,
  MessageBatch,
} from './types.ts';

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
  /** Where database outages are logged (a child with component 'consumer'); default the shared logger. */
  logger?: Logger;
  /** Back-off between attempts of a batch that failed on a transient database error (default 250 ms → 5 s). */
  retry?: { initialMs?: number; maxMs?: number };
  /** Applies the batch inside `client`'s open transaction; a throw rolls the batch back and retries it. */
  handle(batch: TrackedBatch, client: pg.PoolClient): Promise<void>;
  /**
   * Called after each committed batch (metrics, lag, listeners) and awaited before the partition's next batch.
   * The batch is committed already: a throw is logged, never retried.
   */
  onCommitted?(batch: TrackedBatch, filtered: number): void | Promise<void>;
  onCrash?(error: Error): void;
}

/**
 * A consumer whose offsets live in PostgreSQL (hub.consumer_offsets), committed in the same transaction as the
 * rows a batch produced. The row lock on the offset serialises a zombie member against the partition's new
 * owner, and messages below the stored offset are filtered, so a replay after a crash or rebalance is a no-op.
 * Kafka's own commit follows the database commit and only saves refetching.
 *
 * A batch that fails because the database is unreachable is retried in place (same partition, same messages)
 * with a capped back-off, heartbeating so the member keeps its partitions: an outage of any length costs a
 * pause, not a rebalance or a crashed consumer. Other errors throw to kafkajs, which retries the batch itself.
 */
export async function startTrackedConsumer(options: TrackedConsumerOptions): Promise<HubConsumer> {
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    fromBeginning: options.fromBeginning ?? true,
    sessionTimeoutMs: options.sessionTimeoutMs,
    partitionsConcurrently: options.partitionsConcurrently,
    maxBytesPerPartition: options.maxBytesPerPartition,
  });
  const log = componentLogger(options.logger, 'consumer', { groupId: options.groupId });
  const outage = new DatabaseOutage(log);
  const initialMs = options.retry?.initialMs ?? 250;
  const maxMs = options.retry?.maxMs ?? 5000;
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
      .catch((err: unknown) => log.debug({ err }, 'stored offsets not read; starting from Kafka’s position'));
  });

  /** One attempt: the whole batch and its offset in one transaction. null: not committed (lost the partition). */
  async function applyOnce(batch: MessageBatch, control: BatchControl) {
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
    return tracked ? { tracked, filtered, last } : null;
  }

  await consumer.connect();
  await consumer.subscribe(options.topics);
  void consumer.run(async (batch, control) => {
    if (batch.messages.length === 0) return;
    const key = `${batch.topic}/${batch.partition}`;
    let delay = initialMs;
    for (let attempt = 1; ; attempt++) {
      let done: Awaited<ReturnType<typeof applyOnce>>;
      try {
        done = await applyOnce(batch, control);
      } catch (err) {
        if (!isTransientDbError(err)) {
          outage.leave(key);
          throw err;
        }
        outage.fail(key, err);
        // Wait out the back-off in heartbeat-sized steps: the member stays in the group, and a stop or a
        // rebalance ends the wait at once. A rebalance error from heartbeat() propagates so kafkajs rejoins.
        const until = Date.now() + delay;
        try {
          while (control.isRunning() && !control.isStale() && Date.now() < until) {
            await control.heartbeat();
            await sleep(Math.min(250, until - Date.now()));
          }
        } catch (heartbeatError) {
          outage.leave(key);
          throw heartbeatError;
        }
        if (!control.isRunning() || control.isStale()) {
          outage.leave(key);
          return;
        }
        delay = Math.min(delay * 2, maxMs);
        continue;
      }
      outage.succeeded(key, attempt);
      if (!done) return;
      control.resolveOffset(done.last);
      await control.heartbeat();
      try {
        await options.onCommitted?.(done.tracked, done.filtered);
      } catch (err) {
        log.warn(
          { err, topic: batch.topic, partition: batch.partition },
          'a listener of committed batches failed',
        );
      }
      return;
    }
  });

  return {
    ...consumer,
    health(): ConsumerHealth {
      const base = consumer.health();
      if (base.state !== 'running' || !outage.active) return base;
      return { state: 'retrying', since: outage.since ?? base.since, error: outage.lastError };
    },
  };
}

/**
 * The consumer-wide "database unreachable" condition: one warning when the first batch fails on it, attempts
 * counted silently, one info line when a batch commits again. Partitions retrying now are tracked for health.
 */
class DatabaseOutage {
  readonly #condition;
  readonly #retrying = new Set<string>();
  lastError: string | undefined;

  constructor(log: Logger) {
    this.#condition = createCondition(log, 'database unreachable');
  }

  get active(): boolean {
    return this.#retrying.size > 0;
  }

  get since(): number | null {
    return this.#condition.since;
  }

  fail(key: string, err: unknown): void {
    this.#retrying.add(key);
    const code = dbErrorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = `database unreachable${code ? ` (${code})` : ''}: ${message}`;
    const [topic, partition] = splitKey(key);
    this.#condition.begin(
      { topic, partition, code, err: message },
      `database unreachable; batch of ${key} will be retried`,
    );
  }

  /** A batch went through (committed or deliberately rolled back): the database answers again. */
  succeeded(key: string, attempts: number): void {
    const wasRetrying = this.#retrying.delete(key);
    if (!wasRetrying && !this.#condition.active) return;
    const [topic, partition] = splitKey(key);
    const seen = this.#condition.end(
      { topic, partition, attempts },
      `database reachable again; batch of ${key} committed after ${attempts} attempts`,
    );
    if (seen) this.#retrying.clear();
  }

  /** The partition stopped retrying without a verdict (stop, rebalance, a non-transient error). */
  leave(key: string): void {
    this.#retrying.delete(key);
  }
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf('/');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
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
