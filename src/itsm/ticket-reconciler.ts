import pg from 'pg';
import type { Logger } from '../observability/index.ts';
import { TICKET_NOTIFY_CHANNEL } from '../quality/index.ts';
import { reconcilerEnqueuedTotal, ticketIntents, ticketQueueJobs } from './ticket-metrics.ts';
import type { TicketQueue } from './ticket-queue.ts';
import type { TicketStore } from './ticket-store.ts';

export interface TicketReconcilerOptions {
  databaseUrl: string;
  store: TicketStore;
  queue: TicketQueue;
  intervalMs: number;
  logger: Logger;
}

const intentStates = ['pending', 'sent', 'acknowledged', 'failed'];
const jobStates = ['waiting', 'active', 'delayed', 'prioritized', 'failed'];

/**
 * Keeps the queue in step with hub.alert. On start and every `intervalMs` it enqueues every alert key with an
 * intent not acknowledged yet, so intents survive a Redis flush or restart, a job that ran out of attempts, or
 * a crash between the database commit and the enqueue. Between passes it listens for raiseAlerts' NOTIFY and
 * enqueues the keys named (a few ms after, to batch a burst). It also refreshes the intent and queue-depth
 * gauges on each pass.
 */
export class TicketReconciler {
  readonly #options: TicketReconcilerOptions;
  #listener: pg.Client | null = null;
  #timer: NodeJS.Timeout | null = null;
  #flushTimer: NodeJS.Timeout | null = null;
  #keys = new Set<string>();
  #full = false;
  #flushing: Promise<void> | null = null;
  #stopped = false;

  constructor(options: TicketReconcilerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.#listen();
    await this.pass();
    this.#timer = setInterval(() => this.request(), this.#options.intervalMs);
  }

  /** Asks for the given keys (or, without, every undelivered key) to be enqueued soon. */
  request(keys?: readonly string[]): void {
    if (this.#stopped) return;
    if (keys) for (const k of keys) this.#keys.add(k);
    else this.#full = true;
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = null;
      void this.#flush();
    }, 10);
  }

  /** Enqueues every undelivered key and refreshes the gauges; returns how many keys were enqueued. */
  async pass(): Promise<number> {
    const { store, queue, logger } = this.#options;
    const keys = await store.undeliveredKeys();
    const n = await queue.enqueue(keys);
    reconcilerEnqueuedTotal.inc(n);
    try {
      const intents = await store.intentCounts();
      for (const s of intentStates) ticketIntents.set({ state: s }, intents[s] ?? 0);
      const jobs = await queue.counts();
      for (const s of jobStates) ticketQueueJobs.set({ state: s }, jobs[s] ?? 0);
    } catch (e) {
      logger.debug({ err: (e as Error).message }, 'ticket gauges not refreshed');
    }
    return n;
  }

  async #flush(): Promise<void> {
    if (this.#flushing) {
      await this.#flushing;
      if (this.#keys.size > 0 || this.#full) this.request();
      return;
    }
    const full = this.#full;
    const keys = [...this.#keys];
    this.#full = false;
    this.#keys.clear();
    this.#flushing = (full ? this.pass() : this.#options.queue.enqueue(keys))
      .then(() => undefined)
      .catch((e: Error) =>
        this.#options.logger.warn(
          { err: e.message },
          'enqueueing ticket intents failed; the next pass retries',
        ),
      )
      .finally(() => {
        this.#flushing = null;
      });
    await this.#flushing;
  }

  async #listen(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({ connectionString: this.#options.databaseUrl });
    client.on('notification', (msg) => {
      if (msg.channel !== TICKET_NOTIFY_CHANNEL) return;
      let keys: string[] | undefined;
      try {
        keys = msg.payload ? (JSON.parse(msg.payload) as string[]) : undefined;
      } catch {
        keys = undefined;
      }
      this.request(Array.isArray(keys) ? keys : undefined);
    });
    client.on('error', (err) => {
      this.#options.logger.warn({ err: err.message }, 'ticket LISTEN connection lost; reconnecting');
      if (this.#listener === client) this.#listener = null;
      client.end().catch(() => {});
      this.#reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${TICKET_NOTIFY_CHANNEL}`);
    this.#listener = client;
  }

  /** Listens again after a second, then catches up with a full pass (notifications were missed meanwhile). */
  #reconnect(): void {
    if (this.#stopped) return;
    setTimeout(() => {
      this.#listen()
        .then(() => this.request())
        .catch((e: Error) => {
          this.#options.logger.warn({ err: e.message }, 'ticket LISTEN reconnect failed; trying again');
          this.#reconnect();
        });
    }, 1000).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    await this.#flushing;
    await this.#listener?.end().catch(() => {});
    this.#listener = null;
  }
}
