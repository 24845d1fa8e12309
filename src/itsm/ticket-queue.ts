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

  constructor(connection: Redis, settings: TicketSettings) {
    this.#settings = settings;
    this.queue = new Queue<TicketJobData>(settings.queueName, { connection });
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
