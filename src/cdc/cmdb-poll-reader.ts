import type { AxiosInstance } from 'axios';
import type { HubConfig } from '../config/index.ts';
import { type AuthSource, RatePacer, ServiceNowError, serviceNowConnection } from '../itsm/index.ts';

/** One Table API record as the poll asks for it: every value is text. */
export type TableRecord = Record<string, string>;

export interface TablePageRequest {
  table: string;
  /** Encoded query, e.g. `sys_updated_on>=2026-12-01 10:00:00^ORDERBYsys_updated_on^ORDERBYsys_id`. */
  query: string;
  fields: readonly string[];
  limit: number;
  offset: number;
}

/**
 * Reads pages of a ServiceNow table through the Table API (v2), with the hub's ServiceNow settings: Basic or
 * OAuth (one token refresh on a 401), and the shared rate pacing (a 429 is waited out and sent again). Every
 * other failure throws a ServiceNowError; the poll keeps its watermark and tries again on its next tick.
 * References come back as plain sys_ids (`sysparm_exclude_reference_link`), and no total is counted.
 */
export class CmdbTableReader {
  readonly #http: AxiosInstance;
  readonly #auth: AuthSource;
  readonly #pacer = new RatePacer();

  constructor(servicenow: HubConfig['servicenow'], timeoutMs = 30_000) {
    const connection = serviceNowConnection({ url: servicenow.url, auth: servicenow.auth, timeoutMs });
    this.#http = connection.http;
    this.#auth = connection.auth;
  }

  async page(request: TablePageRequest): Promise<TableRecord[]> {
    const path = `/api/now/v2/table/${request.table}`;
    const params = {
      sysparm_query: request.query,
      sysparm_fields: request.fields.join(','),
      sysparm_limit: request.limit,
      sysparm_offset: request.offset,
      sysparm_exclude_reference_link: true,
      sysparm_no_count: true,
      sysparm_suppress_pagination_header: true,
    };
    let refreshed = false;
    for (;;) {
      const authorization = await this.#auth.header();
      await this.#pacer.acquire('GET', path);
      let res: { status: number; data: unknown; headers: Record<string, unknown> };
      try {
        res = await this.#http.get(path, { params, headers: { Authorization: authorization } });
      } catch (e) {
        this.#pacer.release(0);
        const code = (e as { code?: string }).code;
        const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED';
        throw new ServiceNowError(
          timedOut ? 'timeout' : 'network',
          `GET ${path}: ${timedOut ? 'no answer in time' : (e as Error).message}`,
          { method: 'GET', path, cause: e },
        );
      }
      this.#pacer.release(res.status, res.headers);
      if (res.status === 429) continue;
      if (res.status === 401 && !refreshed && this.#auth.invalidate(authorization)) {
        refreshed = true;
        continue;
      }
      return interpret(res, path);
    }
  }
}

function interpret(res: { status: number; data: unknown }, path: string): TableRecord[] {
  const text = typeof res.data === 'string' ? res.data : '';
  let body: { result?: unknown; error?: { message?: string; detail?: string | null } } | null = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const details = { status: res.status, method: 'GET', path };
  if (res.status >= 200 && res.status < 300) {
    // A hibernating instance answers 200 with an HTML page: not a success.
    if (!Array.isArray(body?.result))
      throw new ServiceNowError(
        'invalid_response',
        `GET ${path}: ${res.status} without a JSON list`,
        details,
      );
    return body.result as TableRecord[];
  }
  const reason = body?.error
    ? `${body.error.message ?? ''}${body.error.detail ? `: ${body.error.detail}` : ''}`
    : `${text.length} bytes`;
  const message = `GET ${path}: ${res.status} ${reason}`;
  const kind =
    res.status === 401
      ? 'auth'
      : res.status === 404
        ? 'not_found'
        : res.status >= 500
          ? 'server'
          : 'rejected';
  throw new ServiceNowError(kind, message, details);
}
