import axios, { type AxiosInstance } from 'axios';
import { type AuthSource, BasicAuth, OAuthTokenSource } from '../itsm/index.ts';
import type { IncidentRow } from './rows.ts';

/** Reads incidents by sys_id; the GraphQL stage's only ServiceNow need. */
export interface IncidentSource {
  /** The incidents of these sys_ids, in order (null: no such incident); throws when ServiceNow does not answer. */
  load(sysIds: readonly string[]): Promise<(IncidentRow | null)[]>;
}

export interface ServiceNowIncidentsOptions {
  url: string;
  auth: {
    mode: 'basic' | 'oauth';
    username: string;
    password: string;
    clientId: string;
    clientSecret: string;
  };
  /** Per request; short, because a dashboard waits for the whole answer. */
  timeoutMs?: number;
  /** How long an incident read is reused across requests. */
  cacheMs?: number;
}

const incidentPath = '/api/now/table/incident';
const fields =
  'sys_id,number,state,priority,urgency,impact,short_description,caller_id,assigned_to,opened_at,sys_updated_on';
/** sys_ids per request: 32 characters each keeps the URL far below the 8 KB most proxies accept. */
const chunkSize = 100;
const sysIdPattern = /^[0-9A-Za-z]{1,64}$/;

/**
 * Incidents through the Table API: one `sys_idIN` query for all sys_ids a request asks for (the DataLoader
 * gathers them), display values (names instead of sys_ids for caller and assignee), cached for `cacheMs`.
 * It reads only; ticket delivery (src/itsm) writes, with its own client and pacing.
 */
export class ServiceNowIncidents implements IncidentSource {
  readonly #http: AxiosInstance;
  readonly #auth: AuthSource;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { row: IncidentRow | null; expires: number }>();

  constructor(options: ServiceNowIncidentsOptions) {
    const url = options.url.replace(/\/+$/, '');
    const timeoutMs = options.timeoutMs ?? 5000;
    this.#cacheMs = options.cacheMs ?? 30_000;
    this.#auth =
      options.auth.mode === 'oauth'
        ? new OAuthTokenSource({ url, ...options.auth, timeoutMs })
        : new BasicAuth(options.auth.username, options.auth.password);
    this.#http = axios.create({
      baseURL: url,
      timeout: timeoutMs,
      validateStatus: () => true,
      maxRedirects: 0,
      headers: { Accept: 'application/json' },
    });
  }

  async load(sysIds: readonly string[]): Promise<(IncidentRow | null)[]> {
    const now = Date.now();
    // Only well-formed sys_ids go into the encoded query: a stray `^` or `,` would change its meaning.
    const missing = [...new Set(sysIds)].filter(
      (id) => sysIdPattern.test(id) && (this.#cache.get(id)?.expires ?? 0) <= now,
    );
    for (let i = 0; i < missing.length; i += chunkSize) {
      const chunk = missing.slice(i, i + chunkSize);
      const found = await this.#fetch(chunk);
      const expires = Date.now() + this.#cacheMs;
      for (const id of chunk) this.#cache.set(id, { row: found.get(id) ?? null, expires });
    }
    if (this.#cache.size > 10_000) this.#evictExpired(now);
    return sysIds.map((id) => this.#cache.get(id)?.row ?? null);
  }

  async #fetch(sysIds: string[]): Promise<Map<string, IncidentRow>> {
    let authorization = '';
    let res: { status: number; data: unknown };
    try {
      authorization = await this.#auth.header();
      res = await this.#http.get(incidentPath, {
        params: {
          sysparm_query: `sys_idIN${sysIds.join(',')}`,
          sysparm_fields: fields,
          sysparm_display_value: 'true',
          sysparm_exclude_reference_link: 'true',
          sysparm_limit: sysIds.length,
        },
        headers: { Authorization: authorization },
      });
    } catch (e) {
      throw new Error(`ServiceNow did not answer (GET ${incidentPath}): ${(e as Error).message}`);
    }
    if (res.status === 401) this.#auth.invalidate(authorization);
    const result = (res.data as { result?: unknown } | null)?.result;
    if (res.status !== 200 || !Array.isArray(result))
      throw new Error(`ServiceNow answered GET ${incidentPath} with ${res.status} and no incident list`);
    const rows = new Map<string, IncidentRow>();
    for (const r of result as Record<string, unknown>[]) {
      const row = toIncident(r);
      rows.set(row.sysId, row);
    }
    return rows;
  }

  #evictExpired(now: number): void {
    for (const [id, entry] of this.#cache) if (entry.expires <= now) this.#cache.delete(id);
  }
}

/** Display values are strings, or `{display_value}` objects for references on some instances. */
function text(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'object' && 'display_value' in value)
    return text((value as { display_value: unknown }).display_value);
  return String(value);
}

function toIncident(r: Record<string, unknown>): IncidentRow {
  return {
    sysId: text(r.sys_id) ?? '',
    number: text(r.number) ?? '',
    state: text(r.state),
    priority: text(r.priority),
    urgency: text(r.urgency),
    impact: text(r.impact),
    shortDescription: text(r.short_description),
    caller: text(r.caller_id),
    assignedTo: text(r.assigned_to),
    openedAt: text(r.opened_at),
    updatedAt: text(r.sys_updated_on),
  };
}
