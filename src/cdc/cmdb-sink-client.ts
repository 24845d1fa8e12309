import type { AxiosInstance } from 'axios';
import type { HubConfig } from '../config/index.ts';
import {
  type AuthSource,
  RatePacer,
  type RecoveringCondition,
  ServiceNowError,
  serviceNowConnection,
} from '../itsm/index.ts';

/** One IRE payload item (docs/servicenow-cmdb.md, "What is sent"). */
export interface IreItem {
  className: string;
  values: Record<string, string>;
  sys_object_source_info: {
    source_name: string;
    source_native_key: string;
    source_recency_timestamp?: string;
  };
}

export interface IreItemError {
  error: string;
  message: string;
}

/** The part of an IRE answer item the sink reads. */
export interface IreItemResult {
  className: string;
  operation: string;
  sysId: string;
  errorCount: number;
  errors?: IreItemError[];
}

export interface IreClientOptions {
  url: string;
  auth: HubConfig['servicenow']['auth'];
  timeoutMs: number;
  /** At most this many calls start per second (on top of the instance's own rate-limit headers). */
  callsPerSecond: number;
  availability?: RecoveringCondition;
}

const irePath = '/api/now/identifyreconcile';

/**
 * POSTs payloads to `/api/now/identifyreconcile`. Shares the ITSM stage's auth sources and rate pacer: a 429 is
 * waited out and sent again, one 401 refreshes an OAuth token. Any other failure throws a ServiceNowError
 * (`retriable` for 5xx, timeouts and unreachable; `rejected` for a 4xx). Calls are spaced to `callsPerSecond`.
 */
export class IreClient {
  readonly #http: AxiosInstance;
  readonly #auth: AuthSource;
  readonly #pacer = new RatePacer();
  readonly #spacingMs: number;
  readonly #availability: RecoveringCondition | undefined;
  #nextCallAt = 0;

  constructor(options: IreClientOptions) {
    this.#spacingMs = 1000 / options.callsPerSecond;
    this.#availability = options.availability;
    const connection = serviceNowConnection(options);
    this.#http = connection.http;
    this.#auth = connection.auth;
  }

  /** One IRE call; the answer's items, one per sent item in the same order. */
  async identifyReconcile(items: readonly IreItem[], dataSource: string): Promise<IreItemResult[]> {
    let refreshed = false;
    for (;;) {
      const authorization = await this.#auth.header();
      await this.#space();
      await this.#pacer.acquire('POST', irePath);
      let res: { status: number; data: unknown; headers: Record<string, unknown> };
      try {
        res = await this.#http.post(
          irePath,
          { items },
          { params: { sysparm_data_source: dataSource }, headers: { Authorization: authorization } },
        );
      } catch (e) {
        this.#pacer.release(0);
        const code = (e as { code?: string }).code;
        const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED';
        const kind = timedOut ? 'timeout' : 'network';
        this.#availability?.fail(kind, { request: `POST ${irePath}`, err: (e as Error).message });
        throw new ServiceNowError(
          kind,
          `POST ${irePath}: ${timedOut ? 'no answer in time' : (e as Error).message}`,
          { method: 'POST', path: irePath, cause: e },
        );
      }
      this.#pacer.release(res.status, res.headers);
      if (res.status === 429) {
        this.#availability?.fail('rate_limited', { request: `POST ${irePath}`, status: 429 });
        continue;
      }
      if (res.status === 401 && !refreshed && this.#auth.invalidate(authorization)) {
        refreshed = true;
        continue;
      }
      return this.#interpret(res, items.length);
    }
  }

  async #space(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.#nextCallAt);
    this.#nextCallAt = at + this.#spacingMs;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  #interpret(res: { status: number; data: unknown; headers: Record<string, unknown> }, sent: number) {
    const text = typeof res.data === 'string' ? res.data : '';
    let body: { result?: { items?: unknown }; error?: { message?: string; detail?: string | null } } | null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const fail = (kind: ConstructorParameters<typeof ServiceNowError>[0], message: string) => {
      if (kind === 'server' || kind === 'invalid_response')
        this.#availability?.fail(kind, { request: `POST ${irePath}`, status: res.status });
      else this.#availability?.ok();
      return new ServiceNowError(kind, `POST ${irePath}: ${message}`, {
        status: res.status,
        method: 'POST',
        path: irePath,
      });
    };
    if (res.status >= 200 && res.status < 300) {
      const items = body?.result?.items;
      if (!Array.isArray(items) || items.length !== sent)
        throw fail(
          'invalid_response',
          `${res.status} without a result.items array of ${sent} item(s) (${describeBody(text, res.headers)})`,
        );
      this.#availability?.ok();
      return items as IreItemResult[];
    }
    const reason = body?.error
      ? `${body.error.message ?? ''}${body.error.detail ? `: ${body.error.detail}` : ''}`
      : describeBody(text, res.headers);
    const message = `${res.status} ${reason}`;
    if (res.status >= 500) throw fail('server', message);
    if (res.status === 401) throw fail('auth', message);
    if (res.status === 404) throw fail('not_found', message);
    throw fail('rejected', message);
  }
}

function describeBody(text: string, headers: Record<string, unknown>): string {
  const type = String(headers['content-type'] ?? 'no content type');
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  return title ? `${type}, page "${title.trim()}"` : `${type}, ${text.length} bytes`;
}
