import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TicketSettings } from './ticket-settings.ts';

export interface TicketJobData {
  key: string;
}

/** One bullmq job id per alert key (bullmq ids may not contain ':', which alert keys do). */
export function ticketJobId(key: string): string {
  return `key-${createHash('sha1').update(key).digest('hex')}`;
}

/**
 * The delivery queue: one job per alert key at a time. Adding a key whose job is already waiting, delayed or
 * active is a no-op (bullmq keeps the existing job id), which coalesces bursts; the job reads the alert's
 * current state when it runs. Jobs are removed when they finish: hub.alert, not Redis, remembers what is
 * undelivered or failed.
 */
export class TicketQueue {
  readonly queue: Queue<TicketJobData>;
  readonly #settings: TicketSettings;
  readonly #connection: Redis;
  /**
   * A key of our own next to the queue's: when it is gone, so are the jobs (FLUSHALL, FLUSHDB, a Redis restarted
   * without its data), and the delivery reconciles at once instead of waiting for the periodic pass.
   */
  readonly sentinelKey: string;

  constructor(connection: Redis, settings: TicketSettings) {
    this.#settings = settings;
    this.#connection = connection;
    this.queue = new Queue<TicketJobData>(settings.queueName, { connection });
    this.sentinelKey = `iot-hub:tickets:${settings.queueName}:sentinel`;
  }

  /** Sets the sentinel key (after start, and after a loss was handled). */
  async markSentinel(): Promise<void> {
    await this.#connection.set(this.sentinelKey, String(Date.now()));
  }

  /** False when the sentinel is gone: Redis lost the queue's data since markSentinel(). */
  async sentinelPresent(): Promise<boolean> {
    return (await this.#connection.exists(this.sentinelKey)) === 1;
  }

  /** Enqueues the keys (duplicates and keys already queued are ignored); returns how many were given. */
  async enqueue(keys: readonly string[]): Promise<number> {
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 500) {
      await this.queue.addBulk(
        unique.slice(i, i + 500).map((key) => ({
          name: 'sync',
          data: { key },
          opts: {
            jobId: ticketJobId(key),
            attempts: this.#settings.attempts,
            backoff: { type: 'capped-exponential' },
            removeOnComplete: true,
            removeOnFail: true,
          },
        })),
      );
    }
    return unique.length;
  }

  /** Jobs by state, for the queue-depth gauge. */
  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
  }

  /** Holds every job of the queue for `ms` (a 429 asked for a long wait). */
  async rateLimit(ms: number): Promise<void> {
    await this.queue.rateLimit(ms);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
