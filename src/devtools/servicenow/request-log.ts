/** One request as the emulator saw it; tests read these to check what a client sent and how fast. */
export interface RequestRecord {
  /** Epoch ms when the request arrived. */
  at: number;
  /** Epoch ms when the answer was sent or the socket destroyed; undefined while a lost response hangs. */
  finishedAt?: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Method and path with sys_ids replaced, e.g. `PATCH /api/now/v2/table/incident/{sys_id}`. */
  route: string;
  /** HTTP status sent; 0 when no answer was sent (the lost-response fault). */
  status: number;
  /** The authenticated user, when authentication got that far. */
  user?: string;
  /** The injected fault or limit that shaped the answer, if any. */
  fault?: 'latency' | 'serverError' | 'tooManyRequests' | 'maintenancePage' | 'lostResponse' | 'rateLimit';
}

/** Counters over every request since the start or the last reset. */
export interface RequestStats {
  total: number;
  byMethod: Record<string, number>;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  byFault: Record<string, number>;
  /** Epoch ms of the first and last request arrival; undefined when there was none. */
  firstAt?: number;
  lastAt?: number;
}

export interface RequestLog {
  add(entry: RequestRecord): void;
  /** The newest entries (at most `maxEntries`), oldest first. Counters in `stats()` are exact regardless. */
  entries(): RequestRecord[];
  stats(): RequestStats;
  reset(): void;
}

const sysIdSegment = /\/[0-9a-f]{32}(?=\/|$)/g;

/** The route key of a request: its method and path with 32-hex sys_ids generalised. */
export function routeOf(method: string, path: string): string {
  return `${method} ${path.replace(sysIdSegment, '/{sys_id}')}`;
}

export function createRequestLog(maxEntries = 100_000): RequestLog {
  let entries: RequestRecord[] = [];
  let stats: RequestStats;
  const bump = (counts: Record<string, number>, key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const reset = () => {
    entries = [];
    stats = { total: 0, byMethod: {}, byRoute: {}, byStatus: {}, byFault: {} };
  };
  reset();
  return {
    add(entry) {
      entries.push(entry);
      if (entries.length > maxEntries) entries.splice(0, entries.length - maxEntries);
      stats.total += 1;
      bump(stats.byMethod, entry.method);
      bump(stats.byRoute, entry.route);
      bump(stats.byStatus, String(entry.status));
      if (entry.fault) bump(stats.byFault, entry.fault);
      // Entries are added when answered, so arrivals can come out of order.
      stats.firstAt = Math.min(stats.firstAt ?? entry.at, entry.at);
      stats.lastAt = Math.max(stats.lastAt ?? entry.at, entry.at);
    },
    entries: () => entries.map((e) => ({ ...e })),
    stats: () => structuredClone(stats),
    reset,
  };
}
