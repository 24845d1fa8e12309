import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/index.ts';
import { ServiceNowError } from './servicenow-error.ts';
import type { TicketProcessor } from './ticket-processor.ts';
import type { TicketJobData, TicketQueue } from './ticket-queue.ts';
import type { TicketSettings } from './ticket-settings.ts';

export interface TicketWorkerOptions {
  connection: Redis;
  settings: TicketSettings;
  processor: TicketProcessor;
  queue: TicketQueue;
  logger: Logger;
  /** Called after a job completed, with its key: the delivery re-enqueues it if a newer revision slipped in. */
  onFinished: (key: string) => void;
}

/**
 * The bullmq worker of the ticket queue. Transient failures are retried by bullmq with capped exponential
 * backoff and jitter (5xx, timeouts, HTML answers, a busy lease); a 429 asking for a long wait parks the whole
 * queue with bullmq's rate limit, without using up an attempt.
 */
export class TicketWorker {
  readonly worker: Worker<TicketJobData>;

  constructor(options: TicketWorkerOptions) {
    const { settings, processor, queue, logger } = options;
    this.worker = new Worker<TicketJobData>(
      settings.queueName,
      async (job: Job<TicketJobData>) => {
        try {
          await processor.processKey(job.data.key, job.id ?? job.data.key);
        } catch (e) {
          if (e instanceof ServiceNowError && e.kind === 'rate_limited') {
            await queue.rateLimit(e.waitMs);
            throw Worker.RateLimitError();
          }
          throw e;
        }
      },
      {
        connection: options.connection,
        concurrency: settings.concurrency,
        settings: {
          backoffStrategy: (attemptsMade: number) =>
            Math.min(settings.backoffMaxMs, settings.backoffMs * 2 ** Math.max(0, attemptsMade - 1)) *
            (0.75 + Math.random() / 2),
        },
      },
    );
    this.worker.on('error', (err) => logger.warn({ err: err.message }, 'ticket worker error'));
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      const exhausted = job.attemptsMade >= (job.opts.attempts ?? 1);
      const log = exhausted ? logger.error.bind(logger) : logger.warn.bind(logger);
      log(
        { key: job.data.key, attempt: job.attemptsMade, err: err.message },
        exhausted
          ? 'ticket job out of attempts; the reconciler will enqueue it again'
          : 'ticket job failed; retrying',
      );
    });
    this.worker.on('completed', (job) => options.onFinished(job.data.key));
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
