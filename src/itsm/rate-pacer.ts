import { ServiceNowError } from './servicenow-error.ts';
import { servicenowRateLimitedTotal } from './ticket-metrics.ts';

export interface RatePacerOptions {
  /**
   * Pace proactively from the X-RateLimit-Limit / X-RateLimit-Reset headers: once a window's allowance is
   * used, wait for its reset instead of collecting 429s. Off: send until refused.
   * @defaultValue true
   */
  proactive?: boolean;
  /** First wait after a 429 without Retry-After or X-RateLimit-Reset; doubles per such 429. @defaultValue 250 */
  busyBackoffMs?: number;
  /** Cap of that backoff. @defaultValue 60000 */
  busyBackoffMaxMs?: number;
  /**
   * A wait longer than this is not sat out inside a job: acquire() throws a `rate_limited` ServiceNowError
   * so the worker can park the whole queue (bullmq rateLimit) instead. @defaultValue 30000
   */
  maxInlineWaitMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Shares one instance's rate allowance among all requests of the process. A 429 honours Retry-After (seconds,
 * as the minimum wait), else X-RateLimit-Reset, else backs off exponentially with jitter (the headerless
 * "semaphore exhausted" 429). Windows are identified by the reset time each answer carries, so the
 * pacer needs no knowledge of the window length. The OAuth token endpoint does not go through it.
 */
export class RatePacer {
  readonly #proactive: boolean;
  readonly #busyBackoffMs: number;
  readonly #busyBackoffMaxMs: number;
  readonly #maxInlineWaitMs: number;
  #limit: number | null = null;
  /** Epoch ms when the current server window resets, and how many answers it admitted so far. */
  #windowEnd = 0;
  #used = 0;
  #inflight = 0;
  #blockedUntil = 0;
  #busyStreak = 0;
  #waiters: Array<() => void> = [];

  constructor(options: RatePacerOptions = {}) {
    this.#proactive = options.proactive ?? true;
    this.#busyBackoffMs = options.busyBackoffMs ?? 250;
    this.#busyBackoffMaxMs = options.busyBackoffMaxMs ?? 60_000;
    this.#maxInlineWaitMs = options.maxInlineWaitMs ?? 30_000;
  }

  /** Waits until a request may be sent and counts it in flight; pair every call with release(). */
  async acquire(method: string, path: string): Promise<void> {
    for (;;) {
      const now = Date.now();
      let wait = 0;
      if (now < this.#blockedUntil) {
        wait = this.#blockedUntil - now;
      } else if (this.#proactive && this.#limit !== null) {
        if (now < this.#windowEnd && this.#used + this.#inflight >= this.#limit) {
          wait = this.#windowEnd - now;
        } else if (this.#inflight >= this.#limit) {
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
          continue;
        }
      }
      if (wait <= 0) {
        this.#inflight += 1;
        return;
      }
      if (wait > this.#maxInlineWaitMs) {
        throw new ServiceNowError(
          'rate_limited',
          `ServiceNow asked to wait ${Math.ceil(wait / 1000)} s (429)`,
          {
            status: 429,
            method,
            path,
            waitMs: wait,
          },
        );
      }
      await sleep(wait);
    }
  }

  /**
   * Ends a request started by acquire(): `status` 0 when no answer arrived. Learns the window from the
   * X-RateLimit-* headers and, on a 429, blocks every request until the server allows them again.
   */
  release(status: number, headers: Readonly<Record<string, unknown>> = {}): void {
    this.#inflight = Math.max(0, this.#inflight - 1);
    const now = Date.now();
    const limit = numberHeader(headers['x-ratelimit-limit']);
    const reset = numberHeader(headers['x-ratelimit-reset']);
    if (limit !== null && reset !== null) {
      this.#limit = limit;
      const end = reset * 1000;
      if (end > this.#windowEnd) {
        this.#windowEnd = end;
        this.#used = 0;
      }
      if (status !== 429 && end === this.#windowEnd) this.#used += 1;
    }
    if (status === 429) {
      const retryAfter = numberHeader(headers['retry-after']);
      let until: number;
      if (retryAfter !== null) {
        until = now + retryAfter * 1000;
        servicenowRateLimitedTotal.inc({ kind: 'rule' });
      } else if (reset !== null) {
        until = reset * 1000;
        servicenowRateLimitedTotal.inc({ kind: 'rule' });
      } else {
        const base = Math.min(this.#busyBackoffMaxMs, this.#busyBackoffMs * 2 ** this.#busyStreak);
        until = now + base * (0.5 + Math.random() / 2);
        this.#busyStreak += 1;
        servicenowRateLimitedTotal.inc({ kind: 'busy' });
      }
      this.#blockedUntil = Math.max(this.#blockedUntil, until);
    } else if (status > 0) {
      this.#busyStreak = 0;
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

function numberHeader(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
