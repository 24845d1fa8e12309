import type { HubConfig } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import { ensureError, ServiceNowError } from './servicenow-error.ts';

/** What /readyz shows about ServiceNow (docs/servicenow-tickets.md, "Health"). */
export interface ServiceNowHealthStatus {
  /** The last probe was answered with data: reachable, and the credentials work. */
  up: boolean;
  /**
   * `unchecked` until the first probe ends; `auth`: credentials refused (401, or the OAuth token refused);
   * `forbidden`: 403, the user lacks the role to read incidents; `unavailable`: unreachable, 5xx, 429, HTML.
   */
  state: 'unchecked' | 'ok' | 'auth' | 'forbidden' | 'unavailable';
  /** A sentence for a person; for `auth` it names the config key to fix and the user, never the secret. */
  error?: string;
  checkedAt: Date | null;
}

export interface ServiceNowHealthOptions {
  /** One cheap authenticated request (ServiceNowClient.probe). */
  probe: () => Promise<void>;
  auth: HubConfig['servicenow']['auth'];
  url: string;
  /** @defaultValue 30000 */
  intervalMs?: number;
  logger: Logger;
}

/**
 * Probes ServiceNow at start and every `intervalMs`, so wrong credentials show in /readyz within a minute
 * rather than at the first alert. status() returns the cached result and costs nothing. Refused credentials
 * and a missing role are logged once when they start and once when they end; outages are already logged by
 * the client's availability condition, so they only show in the status.
 */
export class ServiceNowHealth {
  readonly #options: ServiceNowHealthOptions;
  #status: ServiceNowHealthStatus = {
    up: false,
    state: 'unchecked',
    error: 'not checked yet',
    checkedAt: null,
  };
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<ServiceNowHealthStatus> | null = null;

  constructor(options: ServiceNowHealthOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    void this.check();
    this.#timer = setInterval(() => void this.check(), this.#options.intervalMs ?? 30_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  status(): ServiceNowHealthStatus {
    return { ...this.#status };
  }

  /** Probes now (concurrent callers share one probe) and returns the new status. */
  check(): Promise<ServiceNowHealthStatus> {
    this.#running ??= this.#probe().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #probe(): Promise<ServiceNowHealthStatus> {
    let next: ServiceNowHealthStatus;
    try {
      await this.#options.probe();
      next = { up: true, state: 'ok', checkedAt: new Date() };
    } catch (e) {
      next = this.#describe(ensureError(e));
    }
    this.#report(this.#status, next);
    this.#status = next;
    return this.status();
  }

  #describe(err: Error): ServiceNowHealthStatus {
    const checkedAt = new Date();
    if (err instanceof ServiceNowError && err.kind === 'auth') {
      return { up: false, state: 'auth', checkedAt, error: `${this.#credentialsHint()} (${err.message})` };
    }
    if (err instanceof ServiceNowError && err.status === 403) {
      return {
        up: false,
        state: 'forbidden',
        checkedAt,
        error: `ServiceNow user "${this.#options.auth.username}" may not read incidents (needs the itil role or an ACL for table incident): ${err.message}`,
      };
    }
    return {
      up: false,
      state: 'unavailable',
      checkedAt,
      error: `ServiceNow at ${this.#options.url} is not usable: ${err.message}`,
    };
  }

  /** Which keys of iot-hub.yaml to check, with the user and client named; the secrets themselves never. */
  #credentialsHint(): string {
    const a = this.#options.auth;
    if (a.mode === 'basic')
      return `ServiceNow refuses the hub's credentials: check servicenow.auth.password for user "${a.username}" (servicenow.auth.mode basic)`;
    const client = `servicenow.auth.clientSecret for OAuth client "${a.clientId}"`;
    return a.username
      ? `ServiceNow refuses the hub's credentials: check ${client} and servicenow.auth.password for user "${a.username}" (servicenow.auth.mode oauth, password grant)`
      : `ServiceNow refuses the hub's credentials: check ${client} (servicenow.auth.mode oauth, client credentials)`;
  }

  #report(before: ServiceNowHealthStatus, after: ServiceNowHealthStatus): void {
    const { logger, auth } = this.#options;
    if (after.state === before.state) return;
    const context = { mode: auth.mode, user: auth.username || undefined, url: this.#options.url };
    if (after.state === 'auth') {
      const configKey =
        auth.mode === 'basic'
          ? 'servicenow.auth.password'
          : auth.username
            ? 'servicenow.auth.clientSecret, servicenow.auth.password'
            : 'servicenow.auth.clientSecret';
      logger.error(
        { ...context, configKey },
        `${after.error}; tickets cannot be delivered until it is fixed`,
      );
    } else if (after.state === 'forbidden') {
      logger.error(context, `${after.error}; tickets cannot be delivered until it is fixed`);
    } else if (after.state === 'ok' && (before.state === 'auth' || before.state === 'forbidden')) {
      logger.info(context, 'ServiceNow accepts the hub credentials again');
    }
  }
}
