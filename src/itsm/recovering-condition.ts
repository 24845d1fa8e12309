import { type Condition, createCondition, type Logger } from '../observability/index.ts';

export interface RecoveringConditionOptions {
  logger: Logger;
  /** What fails, e.g. 'ServiceNow'; the field `condition` of both lines. */
  name: string;
  /** The warning when the condition starts, e.g. 'ServiceNow is failing; requests are retried with back-off'. */
  startMessage: string;
  /** The info line when it ends, e.g. 'ServiceNow answers again'. */
  endMessage: string;
  /** Successes count as a recovery only this long after the last failure, so a flapping service is one condition. @defaultValue 2000 */
  quietMs?: number;
}

/**
 * Logs a condition the hub recovers from on its own (ServiceNow unreachable, 5xx or 429; a Redis connection
 * lost) as one warning when it starts and one info line when it ends, with how long it lasted and the
 * failures by kind. The individual failures are logged at debug: a 30 s outage is two lines, not a thousand.
 * The two lines are the hub's general Condition (src/observability/logger.ts); this adds failure kinds and a
 * quiet period, so that successes between failures of a flapping service do not end it.
 */
export class RecoveringCondition {
  readonly #options: RecoveringConditionOptions;
  readonly #quietMs: number;
  readonly #condition: Condition;
  #lastFailure = 0;
  #lastSuccess = 0;
  #counts: Record<string, number> = {};
  #timer: NodeJS.Timeout | null = null;

  constructor(options: RecoveringConditionOptions) {
    this.#options = options;
    this.#quietMs = options.quietMs ?? 2000;
    this.#condition = createCondition(options.logger, options.name);
  }

  get active(): boolean {
    return this.#condition.active;
  }

  /** One failure of kind `kind` (e.g. 'server', 'network', 'rate_limited'); `details` go into the lines. */
  fail(kind: string, details: Record<string, unknown> = {}): void {
    const now = Date.now();
    this.#lastFailure = now;
    this.#counts[kind] = (this.#counts[kind] ?? 0) + 1;
    const { logger, name, startMessage } = this.#options;
    if (!this.#condition.begin({ kind, ...details }, startMessage))
      logger.debug({ condition: name, kind, ...details }, `${name}: failing again`);
  }

  /** A success: ends the condition once no failure came for `quietMs`. */
  ok(): void {
    if (!this.#condition.active) return;
    this.#lastSuccess = Date.now();
    this.#settle();
  }

  /** Ends the condition now if it is settled; otherwise checks again when it could be. */
  #settle(): void {
    if (!this.#condition.active || this.#lastSuccess < this.#lastFailure) return;
    const quietFor = Date.now() - this.#lastFailure;
    if (quietFor >= this.#quietMs) {
      this.#end();
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#settle();
    }, this.#quietMs - quietFor);
    this.#timer.unref();
  }

  #end(): void {
    const failures = Object.values(this.#counts).reduce((s, n) => s + n, 0);
    this.#condition.end({ failures, byKind: this.#counts }, this.#options.endMessage);
    this.#counts = {};
  }

  /** Stops the pending check (shutdown). */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
