import { describe, expect, it } from 'vitest';
import { RatePacer, ServiceNowError } from '../../../src/itsm/index.ts';

describe('rate pacer', () => {
  it('holds requests for the Retry-After of a 429', async () => {
    const pacer = new RatePacer();
    await pacer.acquire('GET', '/x');
    pacer.release(429, { 'retry-after': '1' });
    const started = Date.now();
    await pacer.acquire('GET', '/x');
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('waits for the window reset once the X-RateLimit-Limit allowance is used', async () => {
    const pacer = new RatePacer();
    const reset = Math.ceil(Date.now() / 1000) + 1;
    for (let i = 0; i < 2; i++) {
      await pacer.acquire('GET', '/x');
      pacer.release(200, { 'x-ratelimit-limit': '2', 'x-ratelimit-reset': String(reset) });
    }
    await pacer.acquire('GET', '/x');
    expect(Date.now()).toBeGreaterThanOrEqual(reset * 1000);
  });

  it('backs off exponentially after 429s without headers, and hands long waits to the queue', async () => {
    const pacer = new RatePacer({ busyBackoffMs: 100, maxInlineWaitMs: 5_000 });
    await pacer.acquire('GET', '/x');
    pacer.release(429);
    let started = Date.now();
    await pacer.acquire('GET', '/x');
    const first = Date.now() - started;
    expect(first).toBeGreaterThanOrEqual(45);
    pacer.release(429);
    started = Date.now();
    await pacer.acquire('GET', '/x');
    expect(Date.now() - started).toBeGreaterThanOrEqual(95); // 200 ms × [0.5, 1]
    pacer.release(429, { 'retry-after': '120' });
    const err = await pacer.acquire('POST', '/y').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceNowError);
    expect(err).toMatchObject({ kind: 'rate_limited', retriable: true, status: 429 });
    expect((err as ServiceNowError).waitMs).toBeGreaterThan(119_000);
  });
});
