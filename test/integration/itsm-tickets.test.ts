import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { SpanKind, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type HubConfig } from '../../src/config/index.ts';
import { createKnex, type Knex } from '../../src/db/index.ts';
import {
  type ServiceNowEmulator,
  type ServiceNowEmulatorOptions,
  startServiceNowEmulator,
} from '../../src/devtools/servicenow/index.ts';
import {
  startTicketDelivery,
  type TicketDelivery,
  type TicketSettings,
  ticketJobId,
} from '../../src/itsm/index.ts';
import { metricsRegistry } from '../../src/observability/index.ts';
import { type AlertEvent, raiseAlerts } from '../../src/quality/index.ts';
import { recreateItsmDatabase } from '../support/itsm-database.ts';
import { buildStorm, checkStorm } from '../support/ticket-storm.ts';

// Ticket delivery (docs/servicenow-tickets.md) against the ServiceNow emulator, the real PostgreSQL and the
// real Redis. The file works in its own database and its own Redis DB index (FLUSHDB there is one of the
// faults), so it never touches what other tests or a running hub use.

const redisUrl = 'redis://127.0.0.1:6379/11';

let databaseUrl: string;
let knex: Knex;
let sn: ServiceNowEmulator | undefined;
let delivery: TicketDelivery | undefined;
let logLines: string[] = [];

const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
);

beforeAll(async () => {
  databaseUrl = await recreateItsmDatabase(inject('serverUrl'));
  knex = createKnex(databaseUrl, 10);
});

afterEach(async () => {
  await delivery?.stop();
  delivery = undefined;
  await sn?.close();
  sn = undefined;
  await knex.raw('TRUNCATE hub.alert, hub.alert_ticket_lease');
  logLines = [];
});

afterAll(async () => {
  await knex?.destroy();
});

async function start(
  emulator: ServiceNowEmulatorOptions = {},
  settings: Partial<TicketSettings> = {},
  auth: Partial<HubConfig['servicenow']['auth']> = {},
): Promise<ServiceNowEmulator> {
  sn = await startServiceNowEmulator({ port: 0, ...emulator });
  const config: HubConfig = {
    ...structuredClone(defaultConfig),
    file: null,
    database: { url: databaseUrl, poolMax: 10 },
    redis: { url: redisUrl },
    servicenow: { url: sn.url, auth: { ...defaultConfig.servicenow.auth, ...auth } },
    log: { level: 'info' },
  };
  delivery = await startTicketDelivery(config, {
    logger,
    knex,
    settings: {
      queueName: `itsm-test-${randomUUID()}`,
      requestTimeoutMs: 1500,
      reconcileIntervalMs: 500,
      backoffMs: 100,
      backoffMaxMs: 1000,
      concurrency: 16,
      ...settings,
    },
  });
  return sn;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True once no alert has an intent left to deliver (nothing pending or sent). */
async function allDelivered(): Promise<boolean> {
  const row = await knex('hub.alert').whereIn('ticket_state', ['pending', 'sent']).first('id');
  return row === undefined;
}

async function alertRow(deviceId: string) {
  return knex('hub.alert').where({ device_id: deviceId }).orderBy('id', 'desc').first();
}

function raise(
  deviceId: string,
  severity: 'warn' | 'fail' = 'warn',
  evidence: Record<string, unknown> = {},
): AlertEvent {
  return {
    kind: 'raise',
    deviceId,
    rule: 'temperature_high',
    metric: 'temperature',
    severity,
    evidence: { value: 91.5, threshold: 85, unit: 'Cel', ...evidence },
  };
}

const correlationOf = (deviceId: string) => `iothub:${deviceId}:temperature:temperature_high`;

function incidentsOf(deviceId: string) {
  return sn!.records('incident').filter((r) => r.correlation_id === correlationOf(deviceId));
}

function notesOf(sysId: string): string[] {
  return sn!.journal(sysId, 'work_notes').map((e) => String(e.value));
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metricsRegistry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number> }>;
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((s, v) => s + v.value, 0);
}

describe('ticket delivery', () => {
  it('a storm of 5,000 alerts over 200 keys under a 429 rate limit makes exactly 200 incidents with the right work notes', async () => {
    // Pacing off, so the client keeps running into the limit and must honour every Retry-After; a few
    // header-less 429s (semaphore exhaustion) on top exercise the exponential backoff.
    await start(
      { rateLimit: { limit: 100 }, faults: { tooManyRequests: { rate: 0.02 } }, seed: 7 },
      { pacing: false },
    );
    const storm = buildStorm({
      keys: 200,
      perKey: 25,
      escalateEvery: 10,
      prefix: `storm-${randomUUID().slice(0, 8)}`,
    });
    for (let i = 0; i < storm.events.length; i += 250) {
      await raiseAlerts(knex, storm.events.slice(i, i + 250));
    }
    await waitFor('the storm to be delivered', allDelivered, 100_000);

    const check = checkStorm(sn!, storm, 25);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ incidents: 200, duplicates: 0, lost: 0 });
    const rows = await knex('hub.alert').select(
      'ticket_state',
      'ticket_revision',
      'revision',
      'ticket_sys_id',
    );
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => r.ticket_state === 'acknowledged' && r.ticket_revision === r.revision)).toBe(
      true,
    );

    // 429s happened, and after each rule 429 (Retry-After: 1) nothing new arrived for the second it asked for.
    const log = sn!.requests();
    const ruleRefusals = log.filter((r) => r.status === 429 && r.fault === 'rateLimit');
    expect(ruleRefusals.length).toBeGreaterThan(0);
    expect(log.filter((r) => r.status === 429 && r.fault === 'tooManyRequests').length).toBeGreaterThan(0);
    for (const refusal of ruleRefusals) {
      const finished = refusal.finishedAt ?? refusal.at;
      const early = log.filter((r) => r.at > finished + 100 && r.at < finished + 900);
      expect(early, `requests within the Retry-After of the 429 at ${finished}`).toEqual([]);
    }
  });

  it('a create whose answer is lost still makes exactly one incident, and a lost PATCH answer one work note', async () => {
    await start();
    sn!.setFaults({ lostResponse: { rate: 1, times: 1 } });
    await raiseAlerts(knex, [raise('lost-1')]);
    await waitFor('the alert to be acknowledged', allDelivered);
    const posts = sn!.requests().filter((r) => r.route === 'POST /api/now/v2/table/incident');
    expect(posts.map((r) => r.status)).toEqual([0]); // the one create committed, its answer never came
    const incidents = incidentsOf('lost-1');
    expect(incidents).toHaveLength(1);
    expect(await alertRow('lost-1')).toMatchObject({
      ticket_state: 'acknowledged',
      ticket_sys_id: incidents[0]!.sys_id,
      ticket_number: incidents[0]!.number,
    });

    // The same on a PATCH, with the socket reset this time: the repeat's note is journaled once.
    sn!.setFaults({ lostResponse: { rate: 1, times: 1, methods: ['PATCH'], mode: 'reset' } });
    await raiseAlerts(knex, [raise('lost-1', 'warn', { value: 92 })]);
    await waitFor('the repeat to be acknowledged', allDelivered);
    expect(
      sn!
        .requests()
        .filter((r) => r.method === 'PATCH')
        .map((r) => r.status),
    ).toEqual([0]);
    const notes = notesOf(incidents[0]!.sys_id);
    expect(notes.filter((n) => n.includes('Opened by IoT hub'))).toHaveLength(1);
    expect(notes.filter((n) => n.includes('Repeated 1 more time'))).toHaveLength(1);
    expect(incidentsOf('lost-1')).toHaveLength(1);
  });

  it('a Redis FLUSHDB in the middle of delivery loses nothing, duplicates nothing, and delivery resumes within seconds', async () => {
    // The periodic reconcile pass is 30 s away: only the loss detection can resume delivery in time.
    await start({ rateLimit: { limit: 60 } }, { reconcileIntervalMs: 30_000 });
    const storm = buildStorm({
      keys: 100,
      perKey: 3,
      escalateEvery: 0,
      prefix: `flush-${randomUUID().slice(0, 8)}`,
    });
    await raiseAlerts(knex, storm.events);
    await waitFor('some incidents', async () => sn!.records('incident').length >= 20);
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    await redis.quit();
    const acknowledgedAtFlush = (await knex('hub.alert').where({ ticket_state: 'acknowledged' })).length;
    expect(acknowledgedAtFlush).toBeLessThan(100);
    await waitFor('everything delivered after the flush', allDelivered, 20_000);
    const check = checkStorm(sn!, storm, 3);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ incidents: 100, duplicates: 0, lost: 0 });

    const lines = logLines.map(
      (l) => JSON.parse(l) as Record<string, unknown> & { level: number; msg: string },
    );
    expect(lines.filter((l) => l.msg.startsWith('the ticket queue is gone from Redis'))).toHaveLength(1);
    // Jobs running at the flush finish into missing keys: each is one warning naming its alert key.
    const keys = new Map(
      storm.keys.map((k) => {
        const key = `${k.deviceId}:temperature:temperature_high`;
        return [ticketJobId(key), key];
      }),
    );
    const lost = lines.filter((l) => typeof l.err === 'string' && /^Missing (key|lock) for job/.test(l.err));
    expect(lines.filter((l) => l.msg.startsWith('a ticket job vanished'))).toEqual([]);
    for (const l of lost) {
      expect(l.level).toBe(40);
      expect(l.key).toBe(keys.get(String(l.jobId)));
      expect(l.msg).toContain(String(l.key));
    }
    expect(new Set(lost.map((l) => l.jobId)).size).toBe(lost.length);
  });

  it('a ServiceNow outage is one warning when it starts and one info line when it ends, not one per retry', async () => {
    await start({ faults: { serverError: { rate: 1 } } });
    await raiseAlerts(
      knex,
      Array.from({ length: 20 }, (_, i) => raise(`outage-${i}`)),
    );
    await waitFor('many failed attempts', async () => (sn!.stats().byFault.serverError ?? 0) >= 60);
    sn!.setFaults({});
    await waitFor('delivered after the outage', allDelivered);
    await waitFor('the recovery line', async () =>
      logLines.some((l) => l.includes('ServiceNow answers again')),
    );
    const lines = logLines.map(
      (l) => JSON.parse(l) as Record<string, unknown> & { level: number; msg: string },
    );
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.map((l) => l.msg)).toEqual([expect.stringMatching(/^ServiceNow is failing/)]);
    const recovered = lines.filter((l) => l.msg.startsWith('ServiceNow answers again'));
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ level: 30, condition: 'ServiceNow' });
    expect(recovered[0]!.failures).toBeGreaterThanOrEqual(60);
    expect(incidentsOf('outage-0')).toHaveLength(1);
  });

  it('treats an HTML maintenance page (HTTP 200) and 5xx as failures, retried with exponential backoff', async () => {
    await start();
    // The delivery's health probe at start must not take one of the faulty answers meant for the job.
    await waitFor('the first health probe', async () => delivery!.health().checkedAt !== null);
    sn!.setFaults({ maintenancePage: { rate: 1, times: 3 } });
    const retriesBefore = await metricValue('hub_ticket_retries_total', { kind: 'invalid_response' });
    await raiseAlerts(knex, [raise('html-1')]);
    await waitFor('the maintenance pages', async () => sn!.stats().byFault.maintenancePage === 3);
    sn!.setFaults({ serverError: { rate: 1, times: 2 } });
    await waitFor('the alert to be acknowledged', allDelivered);
    const failures = sn!.requests().filter((r) => r.fault === 'maintenancePage' || r.fault === 'serverError');
    expect(failures.map((r) => r.fault)).toEqual([
      'maintenancePage',
      'maintenancePage',
      'maintenancePage',
      'serverError',
      'serverError',
    ]);
    expect(failures.slice(0, 3).every((r) => r.status === 200)).toBe(true);
    expect(await metricValue('hub_ticket_retries_total', { kind: 'invalid_response' })).toBe(
      retriesBefore + 3,
    );
    // Attempts back off 100, 200, 400, 800 ms (±25 %): each gap at least 75 ms, and the fourth at least 600 ms,
    // which a fixed 100 ms back-off could not give. (A ratio of gaps is not used: a busy machine stretches the
    // short first gap more than the schedule does.)
    const gaps = failures.slice(1).map((r, i) => r.at - (failures[i]!.finishedAt ?? failures[i]!.at));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(70);
    expect(gaps[3]!).toBeGreaterThanOrEqual(600);
    expect(gaps[3]!).toBeGreaterThan(gaps[0]!);
    const incidents = incidentsOf('html-1');
    expect(incidents).toHaveLength(1);
    const row = await alertRow('html-1');
    expect(row.ticket_sys_id).toBe(incidents[0]!.sys_id);
    expect(row.ticket_acknowledged_at.getTime()).toBeGreaterThan(
      Math.max(...failures.map((p) => p.finishedAt ?? p.at)),
    );
  });

  it('marks an intent failed with the reason after a 400, without retrying it, and delivers the others', async () => {
    await start({ maxContentLength: 4000 });
    const failedBefore = await metricValue('hub_tickets_total', { mode: 'incident', outcome: 'failed' });
    // The unit ends up in the incident description, making the body larger than the instance accepts.
    await raiseAlerts(knex, [raise('big-1', 'warn', { unit: 'x'.repeat(5000) }), raise('small-1')]);
    await waitFor('both intents settled', allDelivered);
    const row = await alertRow('big-1');
    expect(row.ticket_state).toBe('failed');
    expect(row.ticket_error).toContain('400 Exception while reading request: Rejected large REST payload');
    expect(await metricValue('hub_tickets_total', { mode: 'incident', outcome: 'failed' })).toBe(
      failedBefore + 1,
    );
    expect(
      logLines.some((l) => l.includes('ticket intent failed permanently') && l.includes(`"alert":${row.id}`)),
    ).toBe(true);
    expect((await alertRow('small-1')).ticket_state).toBe('acknowledged');

    await new Promise((r) => setTimeout(r, 1500)); // three reconcile passes
    const posts = sn!.requests().filter((r) => r.route === 'POST /api/now/v2/table/incident');
    expect(posts.map((r) => r.status).sort()).toEqual([201, 400]);
    expect((await alertRow('big-1')).ticket_state).toBe('failed');
  });

  it('escalation raises urgency and impact; clearing resolves; a new alert after that gets a new incident', async () => {
    await start();
    await raiseAlerts(knex, [raise('life-1')]);
    await waitFor('open', allDelivered);
    const [opened] = incidentsOf('life-1');
    expect(opened).toMatchObject({ state: '1', urgency: '2', impact: '3', priority: '4' });

    await raiseAlerts(knex, [raise('life-1', 'fail', { value: 99 })]);
    await waitFor('escalated', allDelivered);
    expect((await alertRow('life-1')).status).toBe('escalated');
    expect(sn!.record('incident', opened!.sys_id)).toMatchObject({
      urgency: '1',
      impact: '2',
      priority: '2',
    });
    expect(
      notesOf(opened!.sys_id).filter((n) => n.includes('Escalated by IoT hub: severity fail')),
    ).toHaveLength(1);

    await raiseAlerts(knex, [
      { kind: 'clear', deviceId: 'life-1', rule: 'temperature_high', metric: 'temperature' },
    ]);
    await waitFor('resolved', allDelivered);
    const resolved = sn!.record('incident', opened!.sys_id)!;
    expect(resolved).toMatchObject({ state: '6', close_code: 'Solution provided' });
    expect(resolved.close_notes).toMatch(/^Condition cleared at .* \(IoT hub alert \d+ cleared\)$/);
    expect(notesOf(opened!.sys_id).some((n) => n.startsWith('Auto-resolved by IoT hub'))).toBe(true);

    await raiseAlerts(knex, [raise('life-1')]);
    await waitFor('reopened as a new incident', allDelivered);
    const all = incidentsOf('life-1');
    expect(all).toHaveLength(2);
    expect(all.filter((i) => i.state === '1')).toHaveLength(1);
  });

  it('refreshes an expired OAuth token mid-run without failing anything, and counts token requests', async () => {
    // Incident POSTs answer 201: every POST answered 200 is a token request.
    const tokensBefore = await metricValue('hub_servicenow_requests_total', {
      method: 'POST',
      status: '200',
    });
    await start({}, {}, { mode: 'oauth' });
    const storm = buildStorm({
      keys: 30,
      perKey: 4,
      escalateEvery: 0,
      prefix: `oauth-${randomUUID().slice(0, 8)}`,
    });
    await raiseAlerts(knex, storm.events.slice(0, 60));
    await waitFor('the first half', allDelivered);
    sn!.expireAccessTokens();
    await raiseAlerts(knex, storm.events.slice(60));
    await waitFor('the second half', allDelivered);
    const stats = sn!.stats();
    expect(stats.byStatus['401']).toBeGreaterThan(0);
    expect(stats.byRoute['POST /oauth_token.do']).toBeGreaterThanOrEqual(2);
    const tokenAnswers = sn!
      .requests()
      .filter((r) => r.route === 'POST /oauth_token.do' && r.status === 200).length;
    expect(await metricValue('hub_servicenow_requests_total', { method: 'POST', status: '200' })).toBe(
      tokensBefore + tokenAnswers,
    );
    const check = checkStorm(sn!, storm, 4);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ incidents: 30, duplicates: 0, lost: 0 });
    expect(await knex('hub.alert').where({ ticket_state: 'failed' })).toHaveLength(0);
  });

  it('two deliveries working the same alerts at once (a stale job beside a fresh one) keep one incident per key, in order', async () => {
    // Two hub processes' worth of delivery on separate queues: every key is enqueued twice, so two jobs race
    // for it; the per-key lease and the row as the source of truth must keep open → escalate → resolve intact.
    await start({ faults: { latency: { rate: 1, ms: 2, maxMs: 15 } } });
    const second = await startTicketDelivery(
      {
        ...structuredClone(defaultConfig),
        file: null,
        database: { url: databaseUrl, poolMax: 10 },
        redis: { url: redisUrl },
        servicenow: { url: sn!.url, auth: defaultConfig.servicenow.auth },
      },
      {
        logger,
        knex,
        settings: {
          queueName: `itsm-test-${randomUUID()}`,
          reconcileIntervalMs: 500,
          backoffMs: 50,
          backoffMaxMs: 500,
        },
      },
    );
    try {
      const devices = Array.from({ length: 40 }, (_, i) => `race-${i}`);
      for (const step of ['warn', 'warn', 'fail', 'warn', 'clear'] as const) {
        // An alert cleared before its incident was ever created gets none; let them all exist first.
        if (step === 'clear')
          await waitFor('the incidents', async () => sn!.records('incident').length >= devices.length);
        await raiseAlerts(
          knex,
          devices.map((d) =>
            step === 'clear'
              ? { kind: 'clear', deviceId: d, rule: 'temperature_high', metric: 'temperature' }
              : raise(d, step),
          ),
        );
        await new Promise((r) => setTimeout(r, 40));
      }
      await waitFor('both deliveries to settle', allDelivered);
      for (const d of devices) {
        const incidents = incidentsOf(d);
        expect(incidents, d).toHaveLength(1);
        expect(incidents[0], d).toMatchObject({ state: '6', urgency: '1', close_code: 'Solution provided' });
        const notes = notesOf(incidents[0]!.sys_id);
        const markers = notes.map((n) => /\(iot-hub alert \d+ rev \d+\)/.exec(n)?.[0]);
        expect(new Set(markers).size, d).toBe(notes.length);
        expect(
          notes.filter((n) => n.includes('Opened by IoT hub')),
          d,
        ).toHaveLength(1);
        expect(
          notes.filter((n) => n.includes('Escalated by IoT hub')),
          d,
        ).toHaveLength(1);
        expect(
          notes.filter((n) => n.includes('Auto-resolved by IoT hub')),
          d,
        ).toHaveLength(1);
        const repeats = notes.reduce((s, n) => s + Number(/Repeated (\d+) more time/.exec(n)?.[1] ?? 0), 0);
        expect(repeats, d).toBe(3);
      }
    } finally {
      await second.stop();
    }
  });

  it('event mode sends one Event Management event per revision and closes the alert on clear', async () => {
    await start({}, { mode: 'event' });
    await raiseAlerts(knex, [raise('em-1')]);
    await waitFor('opened', allDelivered);
    await raiseAlerts(knex, [raise('em-1', 'fail')]);
    await waitFor('escalated', allDelivered);
    await raiseAlerts(knex, [
      { kind: 'clear', deviceId: 'em-1', rule: 'temperature_high', metric: 'temperature' },
    ]);
    await waitFor('cleared', allDelivered);
    const events = sn!.records('em_event').filter((e) => e.message_key === correlationOf('em-1'));
    expect(events.map((e) => e.severity)).toEqual(['4', '1', '0']);
    const alerts = sn!.records('em_alert').filter((a) => a.message_key === correlationOf('em-1'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.state).toBe('Closed');
    expect(sn!.records('incident')).toHaveLength(0);
  });

  it('traces each delivery job in a span linked to the trace that raised the alert', async () => {
    const exporter = new InMemorySpanExporter();
    const sdk = new NodeSDK({
      serviceName: 'iot-hub-test',
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
      instrumentations: [],
    });
    sdk.start();
    try {
      await start();
      const raised = await trace.getTracer('test').startActiveSpan('ingest batch', async (span) => {
        await raiseAlerts(knex, [raise('trace-1')]);
        span.end();
        return span.spanContext();
      });
      await waitFor('delivered', allDelivered);
      const row = await alertRow('trace-1');
      expect(row.evidence.trace).toEqual({ traceparent: `00-${raised.traceId}-${raised.spanId}-01` });
      const key = 'trace-1:temperature:temperature_high';
      const delivery = () =>
        exporter
          .getFinishedSpans()
          .find((s) => s.name === 'ticket delivery' && s.attributes['iot_hub.alert.key'] === key);
      await waitFor('the delivery span', async () => delivery() !== undefined);
      const span = delivery()!;
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.attributes).toMatchObject({
        'iot_hub.ticket.correlation_id': correlationOf('trace-1'),
        'iot_hub.ticket.action': 'create',
        'messaging.message.id': ticketJobId(key),
      });
      expect(span.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
        [raised.traceId, raised.spanId],
      ]);
    } finally {
      await sdk.shutdown();
    }
  });

  it('works as an itil-only user; devices differing only in case get two incidents', async () => {
    await start(
      { users: [{ username: 'svc-iot', password: 'itil-pw', roles: ['itil'] }] },
      {},
      { mode: 'basic', username: 'svc-iot', password: 'itil-pw' },
    );
    await raiseAlerts(knex, [raise('Pump1')]);
    await waitFor('Pump1 open', allDelivered);
    // pump1's search also sees Pump1's incident (queries ignore case on an instance): it must open its own.
    await raiseAlerts(knex, [raise('pump1')]);
    await waitFor('pump1 open', allDelivered);
    expect(incidentsOf('Pump1')).toHaveLength(1);
    expect(incidentsOf('pump1')).toHaveLength(1);
    await raiseAlerts(knex, [raise('pump1', 'fail', { value: 99 })]);
    await waitFor('escalated', allDelivered);
    await raiseAlerts(knex, [
      { kind: 'clear', deviceId: 'pump1', rule: 'temperature_high', metric: 'temperature' },
    ]);
    await waitFor('resolved', allDelivered);
    expect(incidentsOf('pump1')[0]).toMatchObject({ state: '6' });
    expect(incidentsOf('Pump1')[0]).toMatchObject({ state: '1' });
    expect(sn!.requests().filter((r) => r.status === 403)).toEqual([]);
  });
});
