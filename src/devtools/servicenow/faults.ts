import { createRandom } from '../simulator/random.ts';

/** How often a fault strikes: a share of the eligible requests, optionally only the next `times` of them. */
export interface FaultRule {
  /** Share of eligible requests hit, from 0 to 1 (1 = every one). */
  rate: number;
  /** Stop after this many hits; unlimited when absent. `{ rate: 1, times: 1 }` hits exactly the next request. */
  times?: number;
}

/**
 * Faults to inject (docs/servicenow-emulator.md). Latency, 5xx, 429 and the maintenance page hit any request,
 * /oauth_token.do included, before authentication; a lost response hits API writes after they were committed.
 */
export interface ServiceNowFaults {
  /** Delay before the request is handled: `ms`, or a uniform draw from `ms`…`maxMs`. */
  latency?: FaultRule & { ms: number; maxMs?: number };
  /**
   * A 5xx before anything is written. 500 has the JSON error envelope; 502, 503 and 504 have an HTML body, as a
   * load balancer in front of the instance would send.
   * @defaultValue statuses [500, 502, 503]
   */
  serverError?: FaultRule & { statuses?: number[] };
  /**
   * A 429 storm independent of the rate-limit rule: by default the semaphore-exhaustion kind, without
   * Retry-After or X-RateLimit-*; with `headers: true`, the documented rule answer.
   */
  tooManyRequests?: FaultRule & { headers?: boolean; retryAfterSeconds?: number };
  /** HTTP 200 with an HTML maintenance page instead of JSON: a hibernating or upgrading instance. */
  maintenancePage?: FaultRule;
  /**
   * The write is committed, then the answer never arrives: `hang` keeps the socket open without answering (the
   * client times out), `reset` destroys it. Applies to the listed methods on /api/ routes.
   * @defaultValue mode 'hang', methods ['POST']
   */
  lostResponse?: FaultRule & { mode?: 'hang' | 'reset'; methods?: string[] };
}

export type FaultKind = keyof ServiceNowFaults;

export interface FaultInjector {
  /** Decides whether the fault strikes this request, counting it against `times` when it does. */
  strikes(kind: FaultKind): boolean;
  readonly faults: Readonly<ServiceNowFaults>;
  /** Replaces every fault setting; counts of `times` start again. */
  set(faults: ServiceNowFaults): void;
  /** A draw in [0, 1) from the injector's generator (for latency spans and status picks). */
  random(): number;
}

/** Creates the injector. With a `seed`, the same requests in the same order meet the same faults. */
export function createFaultInjector(initial: ServiceNowFaults, seed?: number): FaultInjector {
  // The simulator's seeded stream: the same seed gives the same fault sequence.
  const seeded = seed === undefined ? undefined : createRandom(seed);
  const random = seeded ? () => seeded.next() : Math.random;
  let faults: ServiceNowFaults = {};
  const hits = new Map<FaultKind, number>();
  const injector: FaultInjector = {
    get faults() {
      return faults;
    },
    set(next) {
      validateFaults(next);
      faults = { ...next };
      hits.clear();
    },
    strikes(kind) {
      const rule = faults[kind];
      if (!rule || rule.rate <= 0) return false;
      const used = hits.get(kind) ?? 0;
      if (rule.times !== undefined && used >= rule.times) return false;
      if (rule.rate < 1 && random() >= rule.rate) return false;
      hits.set(kind, used + 1);
      return true;
    },
    random,
  };
  injector.set(initial);
  return injector;
}

function validateFaults(faults: ServiceNowFaults): void {
  for (const [kind, rule] of Object.entries(faults) as Array<[FaultKind, FaultRule | undefined]>) {
    if (!rule) continue;
    if (!(rule.rate >= 0 && rule.rate <= 1))
      throw new Error(`faults.${kind}.rate must be between 0 and 1, got ${rule.rate}`);
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 0)) {
      throw new Error(`faults.${kind}.times must be a whole number ≥ 0, got ${rule.times}`);
    }
  }
  const statuses = faults.serverError?.statuses;
  if (statuses && (statuses.length === 0 || statuses.some((s) => s < 500 || s > 599))) {
    throw new Error(`faults.serverError.statuses must be 5xx codes, got [${statuses.join(', ')}]`);
  }
}
