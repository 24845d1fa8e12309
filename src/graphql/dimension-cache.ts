import pg from 'pg';
import type { Logger } from '../observability/index.ts';

/** The channel dw.dim_* statement triggers notify, with the table's name as payload (docs/graphql.md). */
export const dimensionChannel = 'iot_hub_dimension_changed';

/** The dimension tables whose rows are cached, by the name a trigger sends. */
export type DimensionTable = 'dim_device' | 'dim_asset' | 'dim_metric';

/** DataLoader's cacheMap interface, plus the settled value of a key, if any (no promise to wait on). */
export interface CacheMap<K, V> {
  get(key: K): Promise<V> | undefined;
  set(key: K, value: Promise<V>): unknown;
  delete(key: K): unknown;
  clear(): unknown;
  settled(key: K): { value: V } | undefined;
}

export interface DimensionCacheOptions {
  /** Connection settings of the warehouse pool; the cache holds one more connection, for LISTEN. */
  pool: pg.Pool;
  logger: Logger;
  /** Entries kept per table and row scope, oldest dropped first. @defaultValue 50000 */
  maxEntries?: number;
  /** Longest an entry is used, a bound should a notification ever be missed. @defaultValue 60000 */
  maxAgeMs?: number;
}

interface Entry {
  value: Promise<unknown>;
  at: number;
  settled?: { value: unknown };
}

/**
 * Dimension rows shared by the requests of one process (docs/graphql.md, "Dimension cache"): the per-request
 * DataLoaders of device, asset and metric lookups read and fill it, so a hop that every request repeats (a reading's
 * device, its asset, the site) costs no statement. Rows are kept per row scope (the principal's sites), so row
 * filters apply as before. A statement-level trigger on each table notifies on every change, and the table's rows
 * are dropped when the notification arrives; an entry whose statement started before the change was stored before
 * it arrived (DataLoader stores the promise before it sends the statement), so it is dropped too. While the LISTEN
 * connection is down nothing is cached.
 */
export class DimensionCache {
  private readonly maps = new Map<string, Map<string, Entry>>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private client: pg.Client | null = null;
  private listening = false;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  /** Tables dropped since the start, for tests and /metrics-style checks. */
  invalidations = 0;

  private readonly options: DimensionCacheOptions;

  constructor(options: DimensionCacheOptions) {
    this.options = options;
    this.maxEntries = options.maxEntries ?? 50_000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
  }

  /** Connects and listens; resolves once caching is on (or failed: then it retries in the background). */
  async start(): Promise<void> {
    await this.listen();
  }

  /** Whether lookups are cached now (the LISTEN connection is up). */
  get active(): boolean {
    return this.listening && !this.stopped;
  }

  /**
   * The shared cacheMap of one table's lookup (e.g. device by natural key) for one row scope, or undefined while
   * caching is off (the DataLoader then keeps its own per-request map).
   */
  cacheMap<K extends string | number, V>(
    table: DimensionTable,
    lookup: string,
    scope: readonly string[] | null,
  ): CacheMap<K, V> | undefined {
    if (!this.active) return undefined;
    const name = `${table}\u0000${lookup}\u0000${scope === null ? '*' : JSON.stringify([...scope].sort())}`;
    let map = this.maps.get(name);
    if (!map) {
      map = new Map();
      this.maps.set(name, map);
    }
    const entries = map;
    const maxAgeMs = this.maxAgeMs;
    const maxEntries = this.maxEntries;
    const fresh = (key: K): Entry | undefined => {
      const entry = entries.get(String(key));
      if (entry && performance.now() - entry.at > maxAgeMs) {
        entries.delete(String(key));
        return undefined;
      }
      return entry;
    };
    return {
      get: (key) => fresh(key)?.value as Promise<V> | undefined,
      settled: (key) => fresh(key)?.settled as { value: V } | undefined,
      set: (key, value) => {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
        const entry: Entry = { value, at: performance.now() };
        entries.set(String(key), entry);
        value.then(
          (v) => {
            entry.settled = { value: v };
          },
          // A failed lookup is not kept: the next request asks again.
          () => {
            if (entries.get(String(key)) === entry) entries.delete(String(key));
          },
        );
      },
      delete: (key) => entries.delete(String(key)),
      // A request's clearAll() must not drop what other requests share.
      clear: () => {},
    };
  }

  /** Drops every cached row of a table (a notification) or of all tables. */
  invalidate(table?: string): void {
    for (const name of this.maps.keys())
      if (table === undefined || name.startsWith(`${table}\u0000`)) this.maps.get(name)!.clear();
    this.invalidations += 1;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.invalidate();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(this.options.pool.options);
    const down = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      this.listening = false;
      this.invalidate();
      client.end().catch(() => {});
      if (this.stopped) return;
      this.options.logger.warn(
        { err },
        'dimension cache: LISTEN connection lost; lookups go to the database until it is back',
      );
      this.retry = setTimeout(() => void this.listen(), 2000);
      this.retry.unref();
    };
    client.on('error', down);
    client.on('end', () => down());
    client.on('notification', (n) => {
      if (n.channel === dimensionChannel && n.payload) this.invalidate(n.payload);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${dimensionChannel}`);
      if (this.client !== client || this.stopped) return;
      // Rows read while nobody listened may be stale.
      this.invalidate();
      this.listening = true;
    } catch (err) {
      down(err as Error);
    }
  }
}
