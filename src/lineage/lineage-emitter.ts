import { counter, gauge, type Logger } from '../observability/index.ts';
import type { RunEvent } from './run-event.ts';

const eventsTotal = counter(
  'iot_hub_openlineage_events_total',
  'OpenLineage run events by outcome: sent; failed (refused by the endpoint, or undelivered after every retry); dropped (the queue was full)',
  ['outcome'],
);
const sendErrorsTotal = counter(
  'iot_hub_openlineage_send_errors_total',
  'Failed attempts to POST an OpenLineage event (each is retried with back-off until the attempts run out)',
);
const queuedGauge = gauge('iot_hub_openlineage_queue_size', 'OpenLineage events waiting to be sent');

export interface LineageEmitterOptions {
  /** The OpenLineage endpoint's base URL; events go to `{url}/api/v1/lineage`. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string | null;
  logger: Logger;
  /** Events kept while the endpoint is slow or down; past it the oldest is dropped. @defaultValue 10000 */
  maxQueue?: number;
  /** How often the queue is sent. @defaultValue 1000 */
  flushIntervalMs?: number;
  /** Attempts per event before it counts as failed. @defaultValue 5 */
  attempts?: number;
  /** First back-off after a failed attempt; doubles per attempt, with jitter. @defaultValue 500 */
  backoffMs?: number;
  /** Longest back-off. @defaultValue 30000 */
  backoffMaxMs?: number;
  /** Timeout of one POST. @defaultValue 5000 */
  timeoutMs?: number;
}

/** Counts since the emitter started. */
export interface LineageEmitterStats {
  sent: number;
  failed: number;
  dropped: number;
  queued: number;
}

/**
 * Sends OpenLineage run events off the hot path (docs/lineage.md, "Delivery"): emit() only queues and never
 * throws or waits; a timer POSTs the queue in order, one event per request (the OpenLineage clients' HTTP
 * transport). A failed POST (connection refused, timeout, 5xx, 429) is retried with exponential back-off, the only
 * retry layer of this boundary; any other 4xx is final. The queue is bounded: when full, the oldest event is
 * dropped and counted, with one warning per episode.
 */
export class LineageEmitter {
  readonly #options: Required<Omit<LineageEmitterOptions, 'apiKey'>> & { apiKey: string | null };
  readonly #endpoint: string;
  readonly #queue: RunEvent[] = [];
  readonly #stats = { sent: 0, failed: 0, dropped: 0 };
  #timer: NodeJS.Timeout;
  #sending: Promise<void> | null = null;
  /** The head event's failed attempts, and when it may be tried again. */
  #attempt = 0;
  #retryAt = 0;
  #dropping = false;
  #failing = false;
  #closed = false;

  constructor(options: LineageEmitterOptions) {
    if (!/^https?:\/\//.test(options.url))
      throw new Error(
        `OPENLINEAGE_URL: '${options.url}' is not an http(s) URL; set it to the endpoint's base URL, e.g. http://marquez:5000`,
      );
    this.#options = {
      maxQueue: 10_000,
      flushIntervalMs: 1000,
      attempts: 5,
      backoffMs: 500,
      backoffMaxMs: 30_000,
      timeoutMs: 5000,
      ...options,
      apiKey: options.apiKey ?? null,
    };
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/api/v1/lineage`;
    this.#timer = setInterval(() => void this.#send(), this.#options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Queues an event; drops the oldest when the queue is full. Never throws. */
  emit(event: RunEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    while (this.#queue.length > this.#options.maxQueue) {
      this.#queue.shift();
      this.#attempt = 0;
      this.#stats.dropped++;
      eventsTotal.inc({ outcome: 'dropped' });
      if (!this.#dropping)
        this.#options.logger.warn(
          { maxQueue: this.#options.maxQueue, endpoint: this.#endpoint },
          'OpenLineage queue is full; dropping the oldest events until the endpoint takes them again',
        );
      this.#dropping = true;
    }
    queuedGauge.set(this.#queue.length);
  }

  stats(): LineageEmitterStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /** Sends what is queued now, waiting out back-offs; resolves when the queue is empty or every attempt failed. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const wait = this.#retryAt - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await this.#send();
    }
  }

  /** Stops the timer and sends what is queued, for at most `timeoutMs`; what is left is dropped. */
  async close(timeoutMs = 5000): Promise<void> {
    clearInterval(this.#timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.#closed = true;
    await this.#sending;
    const left = this.#queue.splice(0);
    if (left.length > 0) {
      this.#stats.dropped += left.length;
      eventsTotal.inc({ outcome: 'dropped' }, left.length);
      this.#options.logger.warn({ events: left.length }, 'OpenLineage events not sent before shutdown');
    }
    queuedGauge.set(0);
  }

  #send(): Promise<void> {
    this.#sending ??= this.#drain().finally(() => {
      this.#sending = null;
    });
    return this.#sending;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && Date.now() >= this.#retryAt) {
      const event = this.#queue[0]!;
      const outcome = await this.#post(event);
      // The event may have been dropped meanwhile (queue full); only a head still in place is settled here.
      if (this.#queue[0] !== event) continue;
      if (outcome === 'retry' && ++this.#attempt < this.#options.attempts) {
        const backoff = Math.min(
          this.#options.backoffMaxMs,
          this.#options.backoffMs * 2 ** (this.#attempt - 1),
        );
        this.#retryAt = Date.now() + backoff * (0.8 + Math.random() * 0.4);
        return;
      }
      this.#queue.shift();
      this.#attempt = 0;
      this.#retryAt = 0;
      const final = outcome === 'sent' ? 'sent' : 'failed';
      this.#stats[final]++;
      eventsTotal.inc({ outcome: final });
      if (outcome === 'sent') this.#dropping = false;
    }
    queuedGauge.set(this.#queue.length);
  }

  async #post(event: RunEvent): Promise<'sent' | 'retry' | 'refused'> {
    let status = 0;
    let detail = '';
    try {
      const response = await fetch(this.#endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.#options.apiKey && { authorization: `Bearer ${this.#options.apiKey}` }),
        },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      status = response.status;
      detail = response.ok ? '' : (await response.text()).slice(0, 300);
    } catch (e) {
      detail = (e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    }
    if (status >= 200 && status < 300) {
      if (this.#failing)
        this.#options.logger.info({ endpoint: this.#endpoint }, 'OpenLineage endpoint reachable again');
      this.#failing = false;
      return 'sent';
    }
    sendErrorsTotal.inc();
    const retriable = status === 0 || status === 429 || status >= 500;
    if (!retriable) {
      this.#options.logger.warn(
        { endpoint: this.#endpoint, status, detail, job: event.job.name, eventType: event.eventType },
        'OpenLineage endpoint refused an event; it is not retried',
      );
      return 'refused';
    }
    if (!this.#failing)
      this.#options.logger.warn(
        { endpoint: this.#endpoint, status, detail },
        'OpenLineage endpoint unreachable; events are queued and retried with back-off (the hub goes on)',
      );
    this.#failing = true;
    return 'retry';
  }
}
