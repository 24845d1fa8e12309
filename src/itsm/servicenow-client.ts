import type { AxiosInstance } from 'axios';
import type { HubConfig } from '../config/index.ts';
import type { AuthSource } from './auth-source.ts';
import type { RatePacer } from './rate-pacer.ts';
import type { RecoveringCondition } from './recovering-condition.ts';
import { ServiceNowError } from './servicenow-error.ts';
import { serviceNowConnection } from './servicenow-http.ts';
import { servicenowRequestSeconds, servicenowRequestsTotal } from './ticket-metrics.ts';

/** The incident fields the hub reads back. */
export interface IncidentRef {
  sysId: string;
  number: string;
  state: string;
  urgency: string;
  impact: string;
  priority: string;
}

export interface ServiceNowClientOptions {
  /** Instance URL, e.g. https://acme.service-now.com or the emulator's http://127.0.0.1:18090. */
  url: string;
  auth: HubConfig['servicenow']['auth'];
  /** Per request; a write that times out is not assumed to have failed. */
  timeoutMs: number;
  pacer: RatePacer;
  /**
   * Told about every answer, token requests included: unreachable, 5xx, 429 and HTML pages are failures, any
   * other answer a success (ServiceNow is there). Logs an outage as two lines (recovering-condition.ts).
   */
  availability?: RecoveringCondition;
}

const incidentPath = '/api/now/v2/table/incident';
const incidentFields = 'sys_id,number,state,urgency,impact,priority';
/** Open incidents whose correlation ids differ from ours only in case that one search can step over. */
const caseVariantLimit = 50;

/**
 * The hub's ServiceNow client: Table API v2 for incidents (work notes included), Event Management jsonv2, Basic
 * or OAuth (one token refresh on 401). Every request goes through the rate pacer; a 429 is waited out and the
 * same request sent again (it was not processed). Everything else that fails throws a ServiceNowError whose
 * `retriable` says whether a later attempt can succeed; this client never retries on its own otherwise —
 * bullmq's attempts and backoff are the one retry layer.
 */
export class ServiceNowClient {
  readonly #http: AxiosInstance;
  readonly #auth: AuthSource;
  readonly #pacer: RatePacer;
  readonly #availability: RecoveringCondition | undefined;

  constructor(options: ServiceNowClientOptions) {
    this.#pacer = options.pacer;
    this.#availability = options.availability;
    const connection = serviceNowConnection(options);
    this.#http = connection.http;
    this.#auth = connection.auth;
  }

  /**
   * The newest open incident with exactly this correlation_id (state New, In Progress or On Hold), or null.
   * Resolved incidents do not count: a new alert after a resolve gets a new incident. The instance compares
   * `correlation_id=` without regard to case, so the answer may hold incidents of ids that differ only in case
   * (devices `Pump1` and `pump1`); the exact match is picked here.
   */
  async findOpenIncident(correlationId: string): Promise<IncidentRef | null> {
    const result = await this.#request<Record<string, string>[]>('GET', incidentPath, {
      params: {
        sysparm_query: `correlation_id=${correlationId}^active=true^stateIN1,2,3^ORDERBYDESCsys_created_on`,
        sysparm_fields: `${incidentFields},correlation_id`,
        sysparm_limit: caseVariantLimit,
        sysparm_exclude_reference_link: true,
      },
    });
    if (!Array.isArray(result)) throw this.#shapeError('GET', incidentPath, 'a list');
    const exact = result.find((r) => r.correlation_id === correlationId);
    return exact ? toIncident(exact) : null;
  }

  /** POST one incident; the answer's fields. A timeout does not mean nothing was created. */
  async createIncident(fields: Readonly<Record<string, string>>): Promise<IncidentRef> {
    const result = await this.#request<Record<string, string>>('POST', incidentPath, {
      params: { sysparm_fields: incidentFields, sysparm_exclude_reference_link: true },
      data: fields,
    });
    if (!result?.sys_id) throw this.#shapeError('POST', incidentPath, 'a record with sys_id');
    return toIncident(result);
  }

  /** PATCH an incident; throws `not_found` when it no longer exists. */
  async updateIncident(sysId: string, fields: Readonly<Record<string, string>>): Promise<IncidentRef> {
    const path = `${incidentPath}/${sysId}`;
    const result = await this.#request<Record<string, string>>('PATCH', path, {
      params: { sysparm_fields: incidentFields, sysparm_exclude_reference_link: true },
      data: fields,
    });
    if (!result?.sys_id) throw this.#shapeError('PATCH', path, 'a record with sys_id');
    return toIncident(result);
  }

  /**
   * Whether the incident has a work note containing `marker`: how the hub learns if a write whose answer was
   * lost did land, since journal writes are not idempotent. It reads the incident's `work_notes` display value
   * (every entry), not sys_journal_field, which an `itil` user may not read. Throws `not_found` when the
   * incident no longer exists.
   */
  async hasWorkNote(sysId: string, marker: string): Promise<boolean> {
    const path = `${incidentPath}/${sysId}`;
    const result = await this.#request<Record<string, unknown>>('GET', path, {
      params: { sysparm_fields: 'work_notes', sysparm_display_value: true },
    });
    const notes = result?.work_notes;
    if (typeof notes !== 'string') throw this.#shapeError('GET', path, 'a record with work_notes');
    return notes.includes(marker);
  }

  /**
   * The cheapest authenticated call the delivery itself needs to work: one incident's sys_id. Throws the
   * ServiceNowError a delivery would get (`auth` for wrong credentials, `rejected` for a missing role).
   */
  async probe(): Promise<void> {
    const result = await this.#request<unknown[]>('GET', incidentPath, {
      params: { sysparm_fields: 'sys_id', sysparm_limit: 1 },
    });
    if (!Array.isArray(result)) throw this.#shapeError('GET', incidentPath, 'a list');
  }

  /** POST events to Event Management; they update the alert with the same message_key. */
  async sendEvents(records: readonly Record<string, string>[]): Promise<void> {
    await this.#request('POST', '/api/global/em/jsonv2', { data: { records } });
  }

  async #request<T>(
    method: string,
    path: string,
    options: { params?: Record<string, unknown>; data?: unknown },
  ): Promise<T> {
    let refreshed = false;
    for (;;) {
      const authorization = await this.#auth.header();
      await this.#pacer.acquire(method, path);
      const started = performance.now();
      let res: { status: number; data: unknown; headers: Record<string, unknown> };
      try {
        res = await this.#http.request({
          method,
          url: path,
          ...options,
          headers: { Authorization: authorization },
        });
      } catch (e) {
        this.#pacer.release(0);
        const timedOut =
          (e as { code?: string }).code === 'ETIMEDOUT' || (e as { code?: string }).code === 'ECONNABORTED';
        servicenowRequestsTotal.inc({ method, status: timedOut ? 'timeout' : 'network' });
        this.#availability?.fail(timedOut ? 'timeout' : 'network', {
          request: `${method} ${path}`,
          err: (e as Error).message,
        });
        throw new ServiceNowError(
          timedOut ? 'timeout' : 'network',
          `${method} ${path}: ${timedOut ? 'no answer in time' : (e as Error).message}`,
          { method, path, cause: e },
        );
      }
      this.#pacer.release(res.status, res.headers as Record<string, unknown>);
      servicenowRequestsTotal.inc({ method, status: String(res.status) });
      servicenowRequestSeconds.observe({ method }, (performance.now() - started) / 1000);
      if (res.status === 429) {
        this.#availability?.fail('rate_limited', { request: `${method} ${path}`, status: 429 });
        continue;
      }
      if (res.status >= 500) {
        this.#availability?.fail('server', { request: `${method} ${path}`, status: res.status });
        return this.#interpret<T>(res, method, path);
      }
      if (res.status === 401 && !refreshed && this.#auth.invalidate(authorization)) {
        refreshed = true;
        continue;
      }
      try {
        const result = this.#interpret<T>(res, method, path);
        this.#availability?.ok();
        return result;
      } catch (e) {
        if (e instanceof ServiceNowError && e.kind === 'invalid_response')
          this.#availability?.fail('invalid_response', { request: `${method} ${path}`, err: e.message });
        else this.#availability?.ok(); // a 4xx: ServiceNow answered
        throw e;
      }
    }
  }

  #interpret<T>(
    res: { status: number; data: unknown; headers: Record<string, unknown> },
    method: string,
    path: string,
  ): T {
    const text = typeof res.data === 'string' ? res.data : '';
    let body: { result?: unknown; error?: { message?: string; detail?: string | null } } | null = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (res.status >= 200 && res.status < 300) {
      // A hibernating or waking instance answers 200 with an HTML page: not a success.
      if (!body || typeof body !== 'object' || body.result === undefined || body.result === null) {
        throw new ServiceNowError(
          'invalid_response',
          `${method} ${path}: ${res.status} without a JSON result (${describeBody(text, res.headers)})`,
          { status: res.status, method, path },
        );
      }
      return body.result as T;
    }
    const reason = body?.error
      ? `${body.error.message ?? ''}${body.error.detail ? `: ${body.error.detail}` : ''}`
      : describeBody(text, res.headers);
    const message = `${method} ${path}: ${res.status} ${reason}`;
    if (res.status === 404) throw new ServiceNowError('not_found', message, { status: 404, method, path });
    if (res.status === 401) throw new ServiceNowError('auth', message, { status: 401, method, path });
    if (res.status >= 500) throw new ServiceNowError('server', message, { status: res.status, method, path });
    throw new ServiceNowError('rejected', message, { status: res.status, method, path });
  }

  #shapeError(method: string, path: string, expected: string): ServiceNowError {
    return new ServiceNowError('invalid_response', `${method} ${path}: the result is not ${expected}`, {
      method,
      path,
    });
  }
}

function toIncident(r: Record<string, string>): IncidentRef {
  return {
    sysId: r.sys_id ?? '',
    number: r.number ?? '',
    state: r.state ?? '',
    urgency: r.urgency ?? '',
    impact: r.impact ?? '',
    priority: r.priority ?? '',
  };
}

function describeBody(text: string, headers: Record<string, unknown>): string {
  const type = String(headers['content-type'] ?? 'no content type');
  const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1];
  return title ? `${type}, page "${title.trim()}"` : `${type}, ${text.length} bytes`;
}
