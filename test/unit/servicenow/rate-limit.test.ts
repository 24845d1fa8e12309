import { afterEach, describe, expect, it } from 'vitest';
import { parseRateLimitSpec } from '../../../src/devtools/servicenow/index.ts';
import { basicAuth, startEmulator } from './emulator-client.ts';

let sn: Awaited<ReturnType<typeof startEmulator>> | undefined;
afterEach(async () => {
  await sn?.emulator.close();
  sn = undefined;
});

describe('rate-limit rule', () => {
  it('sends X-RateLimit-* on every answer, then the documented 429 with Retry-After', async () => {
    let clock = Date.UTC(2026, 0, 1, 0, 0, 0, 200);
    sn = await startEmulator({ rateLimit: { limit: 3 }, now: () => clock });
    const windowEnd = String(Date.UTC(2026, 0, 1, 0, 0, 1) / 1000);
    for (let i = 0; i < 3; i += 1) {
      const ok = await sn.call('GET', '/api/now/table/incident');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit')).toBe('3');
      expect(ok.headers.get('x-ratelimit-reset')).toBe(windowEnd);
      expect(ok.headers.get('x-ratelimit-rule')).toMatch(/^[0-9a-f]{32}$/);
      expect(ok.headers.get('x-ratelimit-remaining')).toBeNull();
    }
    const limited = await sn.call('GET', '/api/now/table/incident');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('x-ratelimit-reset')).toBe(windowEnd);
    expect(limited.json).toEqual({
      error: {
        message: 'Rate limit exceeded',
        detail: 'Rate limit of 3 requests per second for Table API exceeded',
      },
      status: 'failure',
    });
    clock += 1000;
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(200);
    expect(sn.emulator.stats().byStatus).toEqual({ '200': 4, '429': 1 });
    expect(sn.emulator.stats().byFault).toEqual({ rateLimit: 1 });
  });

  it('an hourly rule says "per hour" and a Retry-After up to the window end', async () => {
    const clock = Date.UTC(2026, 0, 1, 10, 30, 0);
    sn = await startEmulator({ rateLimit: { limit: 1, windowSeconds: 3600 }, now: () => clock });
    await sn.call('GET', '/api/now/table/incident');
    const limited = await sn.call('GET', '/api/now/table/incident');
    expect(limited.headers.get('retry-after')).toBe('1800');
    expect(limited.json.error.detail).toBe('Rate limit of 1 requests per hour for Table API exceeded');
  });

  it('counts per user, and leaves /oauth_token.do and 401s out', async () => {
    sn = await startEmulator({ rateLimit: { limit: 1, windowSeconds: 3600 } });
    expect(
      (await sn.call('GET', '/api/now/table/incident', { auth: basicAuth('admin', 'bad') })).status,
    ).toBe(401);
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(200);
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(429);
  });

  it('setRateLimit installs and removes the rule at run time', async () => {
    sn = await startEmulator();
    expect((await sn.call('GET', '/api/now/table/incident')).headers.get('x-ratelimit-limit')).toBeNull();
    sn.emulator.setRateLimit({ limit: 1, windowSeconds: 3600 });
    await sn.call('GET', '/api/now/table/incident');
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(429);
    sn.emulator.setRateLimit(undefined);
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(200);
  });
});

describe('parseRateLimitSpec', () => {
  it.each([
    ['50', { limit: 50, windowSeconds: 1 }],
    ['50/s', { limit: 50, windowSeconds: 1 }],
    ['600/m', { limit: 600, windowSeconds: 60 }],
    ['100/h', { limit: 100, windowSeconds: 3600 }],
  ])('%s', (spec, rule) => {
    expect(parseRateLimitSpec(spec)).toEqual(rule);
  });

  it.each(['0', '-5', 'fast', '10/d'])('refuses %s', (spec) => {
    expect(() => parseRateLimitSpec(spec)).toThrow(/invalid rate limit/);
  });
});
