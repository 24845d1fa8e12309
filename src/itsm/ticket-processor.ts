import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { MappingError } from '../mapping/index.ts';
import type { Logger } from '../observability/index.ts';
import type { AlertSync } from './alert-sync.ts';
import { ensureError, ServiceNowError, TicketContentError, TicketLeaseError } from './servicenow-error.ts';
import { ticketRetriesTotal, ticketsTotal } from './ticket-metrics.ts';
import type { TicketStore } from './ticket-store.ts';
import { linkAlertTrace } from './ticket-tracing.ts';

export interface TicketProcessorOptions {
  store: TicketStore;
  sync: AlertSync;
  /** Lease length; must outlast the slowest request (it is renewed before every write). */
  leaseMs: number;
  logger: Logger;
}

/** At most this many passes over a key per job; anything left is picked up by the next job or reconcile pass. */
const maxRounds = 20;

/**
 * Delivers everything undelivered for one alert key, in order (an old alert's resolve before a new alert's
 * create), under the key's lease, so a stale job — one that stalled, or one re-enqueued after a Redis flush
 * while the original still runs — cannot work the key at the same time. Each pass re-reads hub.alert, so a
 * job never acts on an old copy of the alert.
 *
 * A permanent failure (4xx, mapping rejection) marks that alert's intent `failed` with the reason, counts it
 * and logs it, and the job goes on with the key's other alerts; a transient one records the error and throws,
 * so bullmq retries the job with backoff.
 */
export class TicketProcessor {
  readonly #options: TicketProcessorOptions;
  readonly #instance = `${hostname()}:${process.pid}`;

  constructor(options: TicketProcessorOptions) {
    this.#options = options;
  }

  async processKey(key: string, jobId: string): Promise<void> {
    const { store, sync, leaseMs, logger } = this.#options;
    const owner = `${this.#instance}:${jobId}:${randomUUID().slice(0, 8)}`;
    if (!(await store.acquireLease(key, owner, leaseMs))) throw new TicketLeaseError(key, false);
    const guard = async () => {
      if (!(await store.renewLease(key, owner, leaseMs))) throw new TicketLeaseError(key, true);
    };
    const linked = new Set<string>();
    try {
      for (let round = 0; round < maxRounds; round++) {
        const rows = await store.rowsToSync(key);
        if (rows.length === 0) return;
        for (const row of rows) {
          if (!linked.has(`${row.id}:${row.revision}`)) {
            linked.add(`${row.id}:${row.revision}`);
            linkAlertTrace(row);
          }
          try {
            await sync.sync(row, guard);
          } catch (e) {
            const err = ensureError(e);
            if (isPermanent(err)) {
              await store.markFailed(row.id, err.message);
              ticketsTotal.inc({ mode: sync.mode, outcome: 'failed' });
              logger.error({ alert: row.id, key, err: err.message }, 'ticket intent failed permanently');
              continue;
            }
            await store.recordError(row.id, err.message).catch(() => {});
            ticketRetriesTotal.inc({ kind: err instanceof ServiceNowError ? err.kind : err.name });
            throw err;
          }
        }
      }
    } finally {
      await store.releaseLease(key, owner).catch(() => {});
    }
  }
}

/**
 * 4xx answers (other than 401-then-refresh, 404 and 429, handled elsewhere), rejected content and mapping
 * errors: never retried, since the same alert and mapping fail the same way until someone fixes one of them.
 */
function isPermanent(err: Error): boolean {
  if (err instanceof TicketContentError || err instanceof MappingError) return true;
  if (err instanceof ServiceNowError) return !err.retriable;
  return false;
}
