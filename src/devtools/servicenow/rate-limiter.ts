import { ApiFailure } from './api-failure.ts';
import { newSysId } from './glide-values.ts';

/** A rate-limit rule: at most `limit` requests per user per window. */
export interface RateLimitRule {
  limit: number;
  /**
   * Window length in seconds. Real rules count per hour (3600); the default here is 1 so that tests and the
   * benchmark can exercise the limit in seconds.
   * @defaultValue 1
   */
  windowSeconds?: number;
}

export interface RateLimiter {
  /**
   * Counts a request of `user` against the rule. Returns the X-RateLimit-* headers to send on the answer, or
   * throws the documented 429 (with Retry-After) when the window is full. Refused requests are not counted.
   */
  admit(user: string, apiName: string): Record<string, string>;
}

/** Fixed windows aligned to the epoch, so `X-RateLimit-Reset` is a whole UNIX second. */
export function createRateLimiter(rule: RateLimitRule, now: () => number): RateLimiter {
  const windowSeconds = rule.windowSeconds ?? 1;
  const ruleSysId = newSysId();
  const counts = new Map<string, { windowStart: number; count: number }>();
  return {
    admit(user, apiName) {
      const nowSeconds = now() / 1000;
      const windowStart = Math.floor(nowSeconds / windowSeconds) * windowSeconds;
      const reset = windowStart + windowSeconds;
      // No X-RateLimit-Remaining: the platform does not send one.
      const headers = {
        'X-RateLimit-Limit': String(rule.limit),
        'X-RateLimit-Reset': String(reset),
        'X-RateLimit-Rule': ruleSysId,
      };
      let entry = counts.get(user);
      if (!entry || entry.windowStart !== windowStart) {
        entry = { windowStart, count: 0 };
        counts.set(user, entry);
      }
      if (entry.count >= rule.limit) {
        const retryAfter = Math.max(1, Math.ceil(reset - nowSeconds));
        throw new ApiFailure(
          429,
          'Rate limit exceeded',
          `Rate limit of ${rule.limit} requests per ${windowName(windowSeconds)} for ${apiName} exceeded`,
          { ...headers, 'Retry-After': String(retryAfter) },
        );
      }
      entry.count += 1;
      return headers;
    },
  };
}

function windowName(seconds: number): string {
  if (seconds === 1) return 'second';
  if (seconds === 60) return 'minute';
  if (seconds === 3600) return 'hour';
  return `${seconds} seconds`;
}

const windowUnits: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** Parses `--rate-limit`: `N` or `N/s` (per second), `N/m`, `N/h`. Throws a sentence naming the syntax. */
export function parseRateLimitSpec(spec: string): RateLimitRule {
  const match = /^(\d+)(?:\/([smh]))?$/.exec(spec.trim());
  const limit = Number(match?.[1]);
  if (!match || !(limit > 0)) {
    throw new Error(
      `invalid rate limit "${spec}"; expected N, N/s, N/m or N/h with N ≥ 1 (e.g. 50 or 100/h)`,
    );
  }
  return { limit, windowSeconds: windowUnits[match[2] ?? 's'] ?? 1 };
}
