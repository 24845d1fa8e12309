import axios from 'axios';
import type { AuthSource } from './auth-source.ts';
import type { RecoveringCondition } from './recovering-condition.ts';
import { ServiceNowError } from './servicenow-error.ts';
import { servicenowRequestSeconds, servicenowRequestsTotal } from './ticket-metrics.ts';

export interface OAuthSettings {
  url: string;
  clientId: string;
  clientSecret: string;
  /** With a username the password grant is used (access and refresh token); without, client_credentials. */
  username: string;
  password: string;
  timeoutMs: number;
  /** Told about every token request's outcome, like the client's other requests. */
  availability?: RecoveringCondition;
}

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number | string;
}

/**
 * OAuth bearer tokens from `/oauth_token.do`: form-encoded, the password grant first, then the refresh_token
 * grant, falling back to the password grant when the refresh token is refused. Tokens are renewed 30 s before
 * `expires_in`, and after a 401 (an instance may expire them early). Concurrent callers share one token
 * request.
 */
export class OAuthTokenSource implements AuthSource {
  readonly #settings: OAuthSettings;
  #access: string | null = null;
  #refresh: string | null = null;
  #expiresAt = 0;
  #fetching: Promise<string> | null = null;

  constructor(settings: OAuthSettings) {
    this.#settings = settings;
  }

  async header(): Promise<string> {
    if (this.#access && Date.now() < this.#expiresAt - 30_000) return `Bearer ${this.#access}`;
    this.#fetching ??= this.#fetch().finally(() => {
      this.#fetching = null;
    });
    return `Bearer ${await this.#fetching}`;
  }

  invalidate(header: string): boolean {
    if (this.#access !== null && header === `Bearer ${this.#access}`) this.#access = null;
    return true;
  }

  async #fetch(): Promise<string> {
    const s = this.#settings;
    const base = { client_id: s.clientId, client_secret: s.clientSecret };
    if (this.#refresh) {
      try {
        return await this.#grant({ ...base, grant_type: 'refresh_token', refresh_token: this.#refresh });
      } catch (e) {
        if (!(e instanceof ServiceNowError) || e.kind !== 'auth') throw e;
        this.#refresh = null; // refused or expired: start over with the first grant
      }
    }
    return s.username
      ? this.#grant({ ...base, grant_type: 'password', username: s.username, password: s.password })
      : this.#grant({ ...base, grant_type: 'client_credentials' });
  }

  async #grant(form: Record<string, string>): Promise<string> {
    const path = '/oauth_token.do';
    const availability = this.#settings.availability;
    const started = performance.now();
    let res: { status: number; data: unknown };
    try {
      res = await axios.post(`${this.#settings.url}${path}`, new URLSearchParams(form).toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        timeout: this.#settings.timeoutMs,
        validateStatus: () => true,
        responseType: 'text',
        transformResponse: (d: unknown) => d,
      });
    } catch (e) {
      // Token requests are ServiceNow requests too: the same metrics, and an outage starts here as often as not.
      const code = (e as { code?: string }).code;
      const status = code === 'ETIMEDOUT' || code === 'ECONNABORTED' ? 'timeout' : 'network';
      servicenowRequestsTotal.inc({ method: 'POST', status });
      availability?.fail(status, { request: `POST ${path}`, err: (e as Error).message });
      throw new ServiceNowError('network', `OAuth token request failed: ${(e as Error).message}`, {
        method: 'POST',
        path,
        cause: e,
      });
    }
    servicenowRequestsTotal.inc({ method: 'POST', status: String(res.status) });
    servicenowRequestSeconds.observe({ method: 'POST' }, (performance.now() - started) / 1000);
    if (res.status >= 500 || res.status === 429)
      availability?.fail(res.status === 429 ? 'rate_limited' : 'server', {
        request: `POST ${path}`,
        status: res.status,
      });
    else availability?.ok();
    let body: TokenAnswer | null = null;
    try {
      body = JSON.parse(String(res.data)) as TokenAnswer;
    } catch {
      body = null;
    }
    if (res.status === 401 || res.status === 400) {
      throw new ServiceNowError(
        'auth',
        `OAuth token refused (${res.status} ${String(res.data).slice(0, 200)})`,
        {
          status: res.status,
          method: 'POST',
          path,
        },
      );
    }
    if (res.status >= 500 || res.status === 429) {
      throw new ServiceNowError('server', `OAuth token endpoint answered ${res.status}`, {
        status: res.status,
        method: 'POST',
        path,
      });
    }
    if (res.status !== 200 || !body?.access_token) {
      throw new ServiceNowError(
        'invalid_response',
        `OAuth token endpoint answered ${res.status} without a token`,
        {
          status: res.status,
          method: 'POST',
          path,
        },
      );
    }
    this.#access = body.access_token;
    if (body.refresh_token) this.#refresh = body.refresh_token;
    this.#expiresAt = Date.now() + Number(body.expires_in ?? 1800) * 1000;
    return body.access_token;
  }
}
