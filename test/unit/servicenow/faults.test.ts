import { afterEach, describe, expect, it } from 'vitest';
import { createFaultInjector } from '../../../src/devtools/servicenow/faults.ts';
import { parseFaultSpec } from '../../../src/devtools/servicenow/index.ts';
import { startEmulator } from './emulator-client.ts';

let sn: Awaited<ReturnType<typeof startEmulator>> | undefined;
afterEach(async () => {
  await sn?.emulator.close();
  sn = undefined;
});

const createIncident = () =>
  sn?.call('POST', '/api/now/table/incident', { body: { short_description: 'x' }, timeoutMs: 400 });

describe('lost response: the create commits, the answer never arrives', () => {
  it('hang: the client times out, the incident exists once', async () => {
    sn = await startEmulator({ faults: { lostResponse: { rate: 1, times: 1 } } });
    await expect(createIncident()).rejects.toThrow(/timeout|aborted/i);
    expect(sn.emulator.records('incident')).toHaveLength(1);
    expect(sn.emulator.stats().byFault).toEqual({ lostResponse: 1 });
    expect(sn.emulator.requests()[0]).toMatchObject({ method: 'POST', status: 0, fault: 'lostResponse' });
    // `times: 1` spent: the next create answers normally.
    expect((await createIncident())?.status).toBe(201);
    expect(sn.emulator.records('incident')).toHaveLength(2);
  });

  it('reset: the socket is destroyed after the commit', async () => {
    sn = await startEmulator({ faults: { lostResponse: { rate: 1, mode: 'reset' } } });
    await expect(createIncident()).rejects.toThrow(/fetch failed/);
    expect(sn.emulator.records('incident')).toHaveLength(1);
  });

  it('does not hit reads, nor methods left out of `methods`', async () => {
    sn = await startEmulator({ faults: { lostResponse: { rate: 1 } } });
    expect((await sn.call('GET', '/api/now/table/incident'))?.status).toBe(200);
    const incident = sn.emulator.insert('incident', { short_description: 'seeded' });
    const res = await sn.call('PATCH', `/api/now/table/incident/${incident.sys_id}`, {
      body: { work_notes: 'n' },
    });
    expect(res.status).toBe(200);
  });

  it('hits PATCH when listed, after the journal entry was written', async () => {
    sn = await startEmulator({ faults: { lostResponse: { rate: 1, methods: ['PATCH'], mode: 'reset' } } });
    const incident = sn.emulator.insert('incident', { short_description: 'seeded' });
    await expect(
      sn.call('PATCH', `/api/now/table/incident/${incident.sys_id}`, { body: { work_notes: 'note' } }),
    ).rejects.toThrow();
    expect(sn.emulator.journal(incident.sys_id, 'work_notes')).toHaveLength(1);
  });
});

describe('server errors', () => {
  it('500 has the JSON error envelope and writes nothing', async () => {
    sn = await startEmulator({ faults: { serverError: { rate: 1, times: 1, statuses: [500] } } });
    const res = await createIncident();
    expect(res?.status).toBe(500);
    expect(res?.json).toEqual({
      error: { message: 'Internal server error', detail: 'Injected fault: the transaction failed' },
      status: 'failure',
    });
    expect(sn.emulator.records('incident')).toHaveLength(0);
    expect((await createIncident())?.status).toBe(201);
  });

  it.each([502, 503])('%i has an HTML body', async (status) => {
    sn = await startEmulator({ faults: { serverError: { rate: 1, statuses: [status] } } });
    const res = await sn.call('GET', '/api/now/table/incident');
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('text/html;charset=UTF-8');
  });

  it('a share of requests fails, reproducibly with a seed', async () => {
    const statuses = async () => {
      const run = await startEmulator({ seed: 7, faults: { serverError: { rate: 0.3 } } });
      const out: number[] = [];
      for (let i = 0; i < 40; i += 1) out.push((await run.call('GET', '/api/now/table/incident')).status);
      await run.emulator.close();
      return out;
    };
    const first = await statuses();
    const failed = first.filter((s) => s >= 500).length;
    expect(failed).toBeGreaterThan(3);
    expect(failed).toBeLessThan(25);
    expect(await statuses()).toEqual(first);
  });
});

describe('429 storms', () => {
  it('by default: 429 without Retry-After or X-RateLimit-* (semaphore kind)', async () => {
    sn = await startEmulator({ faults: { tooManyRequests: { rate: 1, times: 2 } } });
    const res = await sn.call('GET', '/api/now/table/incident');
    expect(res.status).toBe(429);
    expect(res.json.status).toBe('failure');
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.headers.get('x-ratelimit-reset')).toBeNull();
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(429);
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(200);
  });

  it('with headers: the documented rule answer and Retry-After', async () => {
    sn = await startEmulator({
      faults: { tooManyRequests: { rate: 1, headers: true, retryAfterSeconds: 2 } },
    });
    const res = await sn.call('GET', '/api/now/table/incident');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('x-ratelimit-limit')).toBe('100');
    expect(res.json.error.message).toBe('Rate limit exceeded');
  });
});

describe('maintenance page', () => {
  it('answers 200 with HTML instead of JSON, for API and OAuth alike', async () => {
    sn = await startEmulator({ faults: { maintenancePage: { rate: 1 } } });
    const res = await sn.call('GET', '/api/now/table/incident');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html;charset=UTF-8');
    expect(res.text).toContain('<html');
    expect(res.json).toBeUndefined();
    const token = await sn.call('POST', '/oauth_token.do', { auth: false, text: 'grant_type=password' });
    expect(token.json).toBeUndefined();
  });
});

describe('latency', () => {
  it('delays answers by the configured time', async () => {
    sn = await startEmulator({ faults: { latency: { rate: 1, ms: 150 } } });
    const started = performance.now();
    await sn.call('GET', '/api/now/table/incident');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('setFaults({}) turns every fault off', async () => {
    sn = await startEmulator({ faults: { serverError: { rate: 1 } } });
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBeGreaterThanOrEqual(500);
    sn.emulator.setFaults({});
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(200);
  });
});

describe('request counters', () => {
  it('count by method, route (sys_ids generalised) and status, with arrival times', async () => {
    sn = await startEmulator();
    const before = Date.now();
    const created = (await createIncident())?.json.result;
    await sn.call('GET', `/api/now/table/incident/${created.sys_id}`);
    await sn.call('GET', '/api/now/table/incident', { auth: false });
    const stats = sn.emulator.stats();
    expect(stats.total).toBe(3);
    expect(stats.byMethod).toEqual({ POST: 1, GET: 2 });
    expect(stats.byRoute).toEqual({
      'POST /api/now/table/incident': 1,
      'GET /api/now/table/incident/{sys_id}': 1,
      'GET /api/now/table/incident': 1,
    });
    expect(stats.byStatus).toEqual({ '201': 1, '200': 1, '401': 1 });
    expect(stats.firstAt).toBeGreaterThanOrEqual(before);
    expect(sn.emulator.requests().map((r) => r.user)).toEqual(['admin', 'admin', undefined]);
    sn.emulator.resetStats();
    expect(sn.emulator.stats().total).toBe(0);
  });
});

describe('fault settings', () => {
  it('parseFaultSpec reads the CLI syntax', () => {
    expect(
      parseFaultSpec(
        '5xx=0.05,429=0.2:10,maintenance=1:1,lost-response=0.02,lost-response-mode=reset,latency=20-200,429-headers=true',
      ),
    ).toEqual({
      serverError: { rate: 0.05 },
      tooManyRequests: { rate: 0.2, times: 10, headers: true },
      maintenancePage: { rate: 1, times: 1 },
      lostResponse: { rate: 0.02, mode: 'reset' },
      latency: { rate: 1, ms: 20, maxMs: 200 },
    });
  });

  it.each(['5xx=2', 'latency=fast', 'latency=200-100', 'explode=1', 'lost-response-mode=drop'])(
    'refuses %s',
    (spec) => {
      expect(() => parseFaultSpec(spec)).toThrow(/invalid fault/);
    },
  );

  it('refuses a rate outside 0–1 and non-5xx statuses', () => {
    expect(() => createFaultInjector({ serverError: { rate: 1.5 } })).toThrow(/between 0 and 1/);
    expect(() => createFaultInjector({ serverError: { rate: 1, statuses: [404] } })).toThrow(/5xx/);
  });
});
