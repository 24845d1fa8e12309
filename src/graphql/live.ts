import type pg from 'pg';
import type { Logger } from '../observability/index.ts';
import type { Principal } from './governance/index.ts';
import type { AlertRow, LiveReadingsRow, ReadingRow } from './rows.ts';
import { alertColumns, alertVisible, factVisible, readingColumns } from './sql.ts';

// Live dashboards (docs/graphql.md, "Subscriptions"): trigger-free polling by ingestion time — the ingest does
// not announce single readings — and a conflating throttle per subscription.

/** How often the warehouse is asked for new rows. */
export const pollMs = 250;
/**
 * Rows are stamped with their transaction's start (now()), so a batch may commit after a later-stamped one:
 * each poll looks this far back and skips rows already sent.
 */
const overlapMs = 10_000;

export interface LiveOptions {
  db: pg.Pool;
  principal: Principal;
  logger: Logger;
}

/**
 * New readings of some devices, conflated: at most `maxHz` messages a second, each holding the newest reading
 * per device and metric that arrived since the previous message; `conflated` counts the readings replaced.
 */
export function liveReadings(
  options: LiveOptions & { deviceIds: string[]; metric: string | null; maxHz: number },
): AsyncIterableIterator<LiveReadingsRow> {
  const { db, principal, deviceIds, metric } = options;
  const latest = new Map<string, ReadingRow>();
  let conflated = 0;
  const feed = new Feed<LiveReadingsRow>({
    intervalMs: 1000 / options.maxHz,
    ready: () => latest.size > 0,
    take: () => {
      const readings = [...latest.values()].sort(
        (a, b) => a.deviceSk - b.deviceSk || a.metricSk - b.metricSk,
      );
      const message = { readings, conflated };
      latest.clear();
      conflated = 0;
      return message;
    },
  });
  const poller = startPoller<ReadingRow>({
    ...options,
    keyOf: (r) => `${r.deviceSk}|${r.metricSk}|${r.tsText}`,
    stampOf: (r) => new Date(r.ingestedAt),
    query: (since) =>
      db.query<ReadingRow>(
        `SELECT ${readingColumns('f')} FROM dw.fact_sensor_reading f
         WHERE f.device_sk IN (SELECT d.device_sk FROM dw.dim_device d WHERE d.device_nk = ANY($1::text[]))
           AND f.ingested_at > $2 AND f.reading_ts > now() - interval '7 days'
           AND ($3::text IS NULL OR f.metric_sk = (SELECT m.metric_sk FROM dw.dim_metric m WHERE m.metric_code = $3))
           AND ${factVisible('f', '$4')}
         ORDER BY f.ingested_at LIMIT 10000`,
        [deviceIds, since, metric, principal.sites],
      ),
    deliver: (rows) => {
      for (const r of rows) {
        const key = `${r.deviceSk}|${r.metricSk}`;
        const held = latest.get(key);
        if (held) conflated++;
        if (!held || held.ts <= r.ts) latest.set(key, r);
      }
      if (rows.length > 0) feed.wake();
    },
  });
  feed.onClose(poller.stop);
  return feed;
}

/** Alerts as they open, change and clear (hub.alert rows by updated_at), one message per change. */
export function liveAlerts(
  options: LiveOptions & { deviceIds: string[] | null },
): AsyncIterableIterator<AlertRow> {
  const { db, principal, deviceIds } = options;
  const queue: AlertRow[] = [];
  const feed = new Feed<AlertRow>({
    intervalMs: 0,
    ready: () => queue.length > 0,
    take: () => queue.shift()!,
  });
  const poller = startPoller<AlertRow>({
    ...options,
    keyOf: (a) => `${a.id}|${a.updatedAt.getTime()}`,
    stampOf: (a) => a.updatedAt,
    query: (since) =>
      db.query<AlertRow>(
        `SELECT ${alertColumns('al')} FROM hub.alert al
         WHERE al.updated_at > $1 AND ($2::text[] IS NULL OR al.device_id = ANY($2::text[]))
           AND ${alertVisible('al', '$3')}
         ORDER BY al.updated_at, al.id LIMIT 1000`,
        [since, deviceIds, principal.sites],
      ),
    deliver: (rows) => {
      queue.push(...rows);
      if (rows.length > 0) feed.wake();
    },
  });
  feed.onClose(poller.stop);
  return feed;
}

interface PollerOptions<T> extends LiveOptions {
  query: (since: Date) => Promise<{ rows: T[] }>;
  keyOf: (row: T) => string;
  stampOf: (row: T) => Date;
  deliver: (rows: T[]) => void;
}

/** Polls every pollMs for rows stamped after the subscription started, each row delivered once. */
function startPoller<T>(options: PollerOptions<T>): { stop: () => void } {
  const started = Date.now();
  let newest = started;
  const sent = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let failing = false;
  const tick = async () => {
    try {
      const since = new Date(Math.max(started, newest - overlapMs));
      const { rows } = await options.query(since);
      const fresh = rows.filter((r) => !sent.has(options.keyOf(r)));
      for (const r of fresh) {
        const stamp = options.stampOf(r).getTime();
        sent.set(options.keyOf(r), stamp);
        newest = Math.max(newest, stamp);
      }
      for (const [key, stamp] of sent) if (stamp < newest - overlapMs) sent.delete(key);
      if (failing) options.logger.info('live subscription polling works again');
      failing = false;
      if (!stopped) options.deliver(fresh);
    } catch (err) {
      // Kept going: a database outage pauses the feed, it does not end the subscription.
      if (!failing) options.logger.warn({ err }, 'live subscription polling failed; retrying');
      failing = true;
    }
    if (!stopped) timer = setTimeout(tick, pollMs);
  };
  timer = setTimeout(tick, 0);
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * A pull-based async iterator: next() waits until `ready()`, then until `intervalMs` after the previous
 * message, then returns `take()`. What arrives meanwhile is merged by the producer (conflation), so a slow
 * consumer never makes a queue grow inside the throttle.
 */
class Feed<T> implements AsyncIterableIterator<T> {
  readonly #options: { intervalMs: number; ready: () => boolean; take: () => T };
  #closed = false;
  #last = 0;
  #wakers: (() => void)[] = [];
  #closers: (() => void)[] = [];

  constructor(options: { intervalMs: number; ready: () => boolean; take: () => T }) {
    this.#options = options;
  }

  wake(): void {
    for (const w of this.#wakers.splice(0)) w();
  }

  onClose(fn: () => void): void {
    this.#closers.push(fn);
  }

  async next(): Promise<IteratorResult<T>> {
    while (!this.#closed && !this.#options.ready()) await new Promise<void>((r) => this.#wakers.push(r));
    const wait = this.#last + this.#options.intervalMs - Date.now();
    if (!this.#closed && wait > 0)
      await new Promise<void>((r) => {
        const t = setTimeout(r, wait);
        this.#wakers.push(() => {
          if (this.#closed) {
            clearTimeout(t);
            r();
          }
        });
      });
    if (this.#closed) return { value: undefined, done: true };
    this.#last = Date.now();
    return { value: this.#options.take(), done: false };
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.#closed) {
      this.#closed = true;
      for (const c of this.#closers) c();
      this.wake();
    }
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
