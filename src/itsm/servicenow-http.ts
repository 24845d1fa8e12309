import axios, { type AxiosInstance } from 'axios';
import type { HubConfig } from '../config/index.ts';
import type { AuthSource } from './auth-source.ts';
import { BasicAuth } from './basic-auth.ts';
import { OAuthTokenSource } from './oauth-token-source.ts';
import type { RecoveringCondition } from './recovering-condition.ts';

/** What every ServiceNow client of the hub (incidents, events, CMDB poll and sink) talks to an instance with. */
export interface ServiceNowConnection {
  http: AxiosInstance;
  auth: AuthSource;
}

/**
 * The axios instance and credentials for one instance: JSON in and out, every status answered (callers map them
 * to ServiceNowError), no redirects (a redirect is a login page, not an answer), bodies as text so an HTML page
 * from a hibernating instance can be told apart from JSON.
 */
export function serviceNowConnection(options: {
  url: string;
  auth: HubConfig['servicenow']['auth'];
  timeoutMs: number;
  availability?: RecoveringCondition;
}): ServiceNowConnection {
  const url = options.url.replace(/\/+$/, '');
  const auth =
    options.auth.mode === 'oauth'
      ? new OAuthTokenSource({
          url,
          ...options.auth,
          timeoutMs: options.timeoutMs,
          ...(options.availability ? { availability: options.availability } : {}),
        })
      : new BasicAuth(options.auth.username, options.auth.password);
  const http = axios.create({
    baseURL: url,
    timeout: options.timeoutMs,
    validateStatus: () => true,
    maxRedirects: 0,
    responseType: 'text',
    transformResponse: (d: unknown) => d,
    transitional: { clarifyTimeoutError: true },
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
  });
  return { http, auth };
}
