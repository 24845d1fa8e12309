import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type JobLineage, lineage } from '../lineage/index.ts';
import type { Logger } from '../observability/index.ts';
import { ServiceNowError } from './servicenow-error.ts';
import type { TicketProcessor } from './ticket-processor.ts';
import type { TicketJobData, TicketQueue } from './ticket-queue.ts';
import type { TicketSettings } from './ticket-settings.ts';
import { ticketSpanAttributes, ticketTracer } from './ticket-tracing.ts';

export interface TicketWorkerOptions {
  connection: Redis;
  settings: TicketSettings;
  processor: TicketProcessor;
  queue: TicketQueue;
  logger: Logger;
  /** Called after a job completed, with its key: the delivery re-enqueues it if a newer revision slipped in. */
  onFinished: (key: string) => void;
  /** A running job's data vanished from Redis (flushed, or restarted empty): the delivery reconciles at once. */
  onJobLost: (key: string | null) => void;
  /** The OpenLineage job each delivery job runs as (docs/lineage.md); null: none. */
  lineageJob?: () => JobLineage | null;
}

/** bullmq's words for a job whose keys are gone from Redis (bullmq's finished-errors.ts). */
const lostJob = /^Missing (?:key|lock) for job (\S+?)\.? /;
/** Job ids remembered for naming a lost job's alert key (the most recently started). */
const maxTracked = 10_000;

/**
 * The bullmq worker of the ticket queue. Transient failures are retried by bullmq with capped exponential
 * backoff and jitter (5xx, timeouts, HTML answers, a busy lease), logged at debug: a ServiceNow outage is
 * reported once by the client's availability condition. A 429 asking for a long wait parks the whole queue with
 * bullmq's rate limit, without using up an attempt. Each job runs in a span ('ticket delivery').
 */
export class TicketWorker {
  readonly worker: Worker<TicketJobData>;
  /**
   * Job id → alert key of jobs started here, to name the key when bullmq reports a job lost. Kept after the job
   * ends (most recent first out when full): after a flush, a stale run of a job can finish after a fresh run of
   * the same id did, and its error still needs the key.
   */
  readonly #keys = new Map<string, string>();
  /** Lost jobs already reported; a job id is reported again only after it ran again. */
  readonly #reported = new Set<string>();

  constructor(options: TicketWorkerOptions) {
    const { settings, processor, queue, logger } = options;
    this.worker = new Worker<TicketJobData>(
      settings.queueName,
      async (job: Job<TicketJobData>) => {
        const jobId = job.id ?? job.data.key;
        this.#track(jobId, job.data.key);
        await ticketTracer.startActiveSpan(
          'ticket delivery',
          {
            kind: SpanKind.CONSUMER,
            attributes: {
              [ticketSpanAttributes.alertKey]: job.data.key,
              [ticketSpanAttributes.jobId]: jobId,
              [ticketSpanAttributes.attempt]: job.attemptsMade + 1,
            },
          },
          async (span) => {
            try {
              await lineage.run(options.lineageJob?.() ?? null, () =>
                processor.processKey(job.data.key, jobId),
              );
            } catch (e) {
              span.recordException(e as Error);
              span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
              if (e instanceof ServiceNowError && e.kind === 'rate_limited') {
                await queue.rateLimit(e.waitMs);
                throw Worker.RateLimitError();
              }
              throw e;
            } finally {
              span.end();
            }
          },
        );
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
    this.worker.on('error', (err) => {
      const lost = lostJob.exec(err.message);
      if (!lost) {
        logger.warn({ err: err.message }, 'ticket worker error');
        return;
      }
      const jobId = lost[1]!;
      const key = this.#keys.get(jobId) ?? null;
      if (!this.#reported.has(jobId)) {
        this.#reported.add(jobId);
        logger.warn(
          { key, jobId, err: err.message },
          key
            ? `ticket job for alert key ${key} vanished from Redis (flushed or restarted?); re-enqueueing undelivered intents from hub.alert`
            : 'a ticket job vanished from Redis (flushed or restarted?); re-enqueueing undelivered intents from hub.alert',
        );
      }
      options.onJobLost(key);
    });
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      const exhausted = job.attemptsMade >= (job.opts.attempts ?? 1);
      if (exhausted)
        logger.warn(
          { key: job.data.key, attempts: job.attemptsMade, err: err.message },
          'ticket job out of attempts; the reconciler enqueues the alert key again on its next pass',
        );
      else
        logger.debug(
          { key: job.data.key, attempt: job.attemptsMade, err: err.message },
          'ticket job failed; retrying',
        );
    });
    this.worker.on('completed', (job) => options.onFinished(job.data.key));
  }

  #track(jobId: string, key: string): void {
    this.#reported.delete(jobId);
    if (this.#reported.size >= maxTracked) this.#reported.clear();
    this.#keys.delete(jobId);
    if (this.#keys.size >= maxTracked) {
      const oldest = this.#keys.keys().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
    this.#keys.set(jobId, key);
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
