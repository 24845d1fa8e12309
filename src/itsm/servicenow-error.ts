/**
 * Why a ServiceNow call failed. Retriable kinds: `timeout`, `network`, `server` (5xx), `invalid_response`
 * (a 2xx that is not the JSON envelope, e.g. a hibernating instance's HTML page) and `rate_limited` (the
 * wait a 429 asked for is longer than a job should block). Permanent kinds:
 * `rejected` (4xx other than 401/404/429, e.g. 400 or a 403 data policy), `auth` (401 after a token
 * refresh, or the token endpoint refusing) and `not_found` (404 on a record).
 */
export type ServiceNowErrorKind =
  | 'timeout'
  | 'network'
  | 'server'
  | 'invalid_response'
  | 'rate_limited'
  | 'rejected'
  | 'auth'
  | 'not_found';

const retriableKinds: ReadonlySet<ServiceNowErrorKind> = new Set([
  'timeout',
  'network',
  'server',
  'invalid_response',
  'rate_limited',
]);

/** A failed ServiceNow call; branch on `kind` or `retriable`, never on the message. */
export class ServiceNowError extends Error {
  readonly kind: ServiceNowErrorKind;
  readonly retriable: boolean;
  /** HTTP status, or null when no answer arrived. */
  readonly status: number | null;
  readonly method: string;
  readonly path: string;
  /** For `rate_limited`: how long to hold the queue, in ms. */
  readonly waitMs: number;

  constructor(
    kind: ServiceNowErrorKind,
    message: string,
    details: { status?: number | null; method: string; path: string; waitMs?: number; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ServiceNowError';
    this.kind = kind;
    this.retriable = retriableKinds.has(kind);
    this.status = details.status ?? null;
    this.method = details.method;
    this.path = details.path;
    this.waitMs = details.waitMs ?? 0;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A ticket intent that can never be delivered as it stands (the outbound mapping rejected the alert). */
export class TicketContentError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'TicketContentError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Another worker holds the alert key's lease (or took it over): retry later. */
export class TicketLeaseError extends Error {
  readonly retriable = true;
  readonly key: string;
  constructor(key: string, lost: boolean) {
    super(
      lost ? `lost the lease on alert key ${key}` : `alert key ${key} is being delivered by another worker`,
    );
    this.name = 'TicketLeaseError';
    this.key = key;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export function ensureError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
