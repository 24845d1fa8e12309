import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiFailure, invalidJson, unknownResource } from './api-failure.ts';
import type { ApiRequest, ApiResponse, EmulatorContext } from './api-types.ts';
import { authenticate } from './authenticate.ts';
import { eventRoute, handleEventSubmission } from './event-management.ts';
import type { FaultInjector } from './faults.ts';
import {
  htmlAnswer,
  jsonAnswer,
  platformHeaders,
  readBody,
  type WireAnswer,
  writeAnswer,
} from './http-io.ts';
import { handleIdentifyReconcile, ireRoute } from './identify-reconcile.ts';
import { gatewayErrorHtml, maintenancePageHtml } from './maintenance-page.ts';
import { handleOAuthToken, type OAuthSettings } from './oauth-endpoint.ts';
import type { TokenStore } from './oauth-tokens.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { type RequestLog, type RequestRecord, routeOf } from './request-log.ts';
import { handleTableRequest, tableRoute } from './table-api.ts';
import type { ActingUser } from './write-record.ts';

export interface PipelineDeps {
  ctx: EmulatorContext;
  faults: FaultInjector;
  /** Read per request, so the rule can change while the emulator runs. */
  rateLimiter: () => RateLimiter | undefined;
  tokens: TokenStore;
  oauth: OAuthSettings;
  /** user name → the sys_user behind it. */
  users: ReadonlyMap<string, ActingUser>;
  log: RequestLog;
  maxContentLength: number;
}

/**
 * One request, in the order an instance and the network in front of it would act: injected latency and
 * infrastructure faults first, then /oauth_token.do or authentication, the rate-limit rule, the API handler, and
 * last the lost-response fault, which strikes after the write is committed.
 */
export function createRequestPipeline(
  deps: PipelineDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(deps, req, res);
  };
}

async function handle(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { faults } = deps;
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
  const override = req.headers['x-http-method-override'];
  const method = (
    typeof override === 'string' && override !== '' ? override : (req.method ?? 'GET')
  ).toUpperCase();
  const entry: RequestRecord = {
    at: deps.ctx.now(),
    method,
    path: url.pathname,
    route: routeOf(method, url.pathname),
    status: 0,
  };
  const finish = (answer: WireAnswer | undefined) => {
    if (answer) {
      entry.status = answer.status;
      writeAnswer(res, req.method ?? method, answer);
    }
    entry.finishedAt = answer || res.destroyed ? deps.ctx.now() : undefined;
    deps.log.add(entry);
  };

  let headers = platformHeaders();
  try {
    const rawBody = await readBody(req, deps.maxContentLength);
    if (faults.strikes('latency')) {
      const { ms = 0, maxMs } = faults.faults.latency ?? {};
      entry.fault = 'latency';
      await sleep(maxMs === undefined ? ms : ms + faults.random() * (maxMs - ms));
    }
    const infrastructure = infrastructureFault(deps, headers, entry);
    if (infrastructure) return finish(infrastructure);

    if (url.pathname === '/oauth_token.do') {
      const answer = handleOAuthToken(deps.oauth, deps.tokens, deps.ctx.now, method, req.headers, rawBody);
      return finish(jsonAnswer(answer.status, headers, answer.body));
    }
    if (!url.pathname.startsWith('/api/')) {
      return finish(htmlAnswer(404, headers, '<html><body><h1>404 Not Found</h1></body></html>\n'));
    }
    const userName = authenticate(req.headers, deps.oauth.passwords, deps.tokens);
    entry.user = userName;
    headers['X-Is-Logged-In'] = 'true';
    const limiter = deps.rateLimiter();
    if (limiter) {
      try {
        headers = { ...headers, ...limiter.admit(userName, apiName(url.pathname)) };
      } catch (e) {
        entry.fault = 'rateLimit';
        throw e;
      }
    }
    const apiRequest: ApiRequest = {
      method,
      url,
      baseUrl: `${url.protocol}//${url.host}`,
      user: deps.users.get(userName) ?? { userName, sysId: '' },
      body: parseJson(rawBody),
      headers: req.headers,
    };
    const answer = route(deps.ctx, apiRequest);
    if (
      answer.status < 300 &&
      (faults.faults.lostResponse?.methods ?? ['POST']).includes(method) &&
      faults.strikes('lostResponse')
    ) {
      // The write is committed; the client never hears about it.
      entry.fault = 'lostResponse';
      if (faults.faults.lostResponse?.mode === 'reset') req.socket.destroy();
      return finish(undefined);
    }
    return finish(jsonAnswer(answer.status, { ...headers, ...answer.headers }, answer.body));
  } catch (e) {
    if (e instanceof ApiFailure) return finish(jsonAnswer(e.status, { ...headers, ...e.headers }, e.body()));
    const detail = e instanceof Error ? e.message : String(e);
    return finish(jsonAnswer(500, headers, new ApiFailure(500, 'Internal server error', detail).body()));
  }
}

/** Maintenance page, 5xx and 429 storms: answers that do not depend on who asks or what. */
function infrastructureFault(
  deps: PipelineDeps,
  headers: Record<string, string>,
  entry: RequestRecord,
): WireAnswer | undefined {
  const { faults } = deps;
  if (faults.strikes('maintenancePage')) {
    entry.fault = 'maintenancePage';
    return htmlAnswer(200, headers, maintenancePageHtml);
  }
  if (faults.strikes('serverError')) {
    entry.fault = 'serverError';
    const statuses = faults.faults.serverError?.statuses ?? [500, 502, 503];
    const status = statuses[Math.floor(faults.random() * statuses.length)] ?? 500;
    if (status !== 500) return htmlAnswer(status, headers, gatewayErrorHtml(status));
    const failure = new ApiFailure(500, 'Internal server error', 'Injected fault: the transaction failed');
    return jsonAnswer(500, headers, failure.body());
  }
  if (faults.strikes('tooManyRequests')) {
    entry.fault = 'tooManyRequests';
    const storm = faults.faults.tooManyRequests ?? { rate: 1 };
    if (!storm.headers) {
      // Semaphore exhaustion: no Retry-After, no X-RateLimit-*; the body is unconfirmed.
      const failure = new ApiFailure(
        429,
        'Too Many Requests',
        'The API_INT semaphore queue is full; try again later',
      );
      return jsonAnswer(429, headers, failure.body());
    }
    // The documented rule answer, as if an hourly rule had run out.
    const retryAfter = storm.retryAfterSeconds ?? 1;
    const failure = new ApiFailure(
      429,
      'Rate limit exceeded',
      'Rate limit of 100 requests per hour for Table API exceeded',
    );
    return jsonAnswer(
      429,
      {
        ...headers,
        'Retry-After': String(retryAfter),
        'X-RateLimit-Limit': '100',
        'X-RateLimit-Reset': String(Math.ceil(deps.ctx.now() / 1000) + retryAfter),
      },
      failure.body(),
    );
  }
  return undefined;
}

function route(ctx: EmulatorContext, req: ApiRequest): ApiResponse {
  const path = req.url.pathname;
  const table = tableRoute.exec(path);
  if (table) return handleTableRequest(ctx, req, table);
  if (eventRoute.test(path)) return handleEventSubmission(ctx, req);
  const ire = ireRoute.exec(path);
  if (ire) return handleIdentifyReconcile(ctx, req, ire[1]);
  throw unknownResource();
}

/** The API a rate-limit rule names in its 429 detail. */
function apiName(path: string): string {
  if (tableRoute.test(path)) return 'Table API';
  if (eventRoute.test(path)) return 'Event Management API';
  if (ireRoute.test(path)) return 'Identification and Reconciliation API';
  return 'REST API';
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw invalidJson();
  }
}
