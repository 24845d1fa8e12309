import { type Client, createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import WebSocket from 'ws';
import { freshDatabase, seedWarehouse, startTestApi, type TestApi } from './graphql-harness.ts';

// Subscriptions over graphql-ws on /graphql (docs/graphql.md, "Subscriptions"): conflated readings at maxHz,
// alert changes, authentication in onConnect. Governance is the stand-in (x-test-deny refuses).
vi.mock('../../src/graphql/governance/index.ts', async () =>
  (await import('./graphql-stand-in.ts')).governanceStandIn(),
);

let api: TestApi;
const clients: Client[] = [];

beforeAll(async () => {
  const url = await freshDatabase(inject('serverUrl'), 'iot_hub_test_graphql_subscriptions');
  api = await startTestApi(url);
  await seedWarehouse(api.db, { devices: 4, readings: 1, readingsEnd: new Date(Date.now() - 3600_000) });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.dispose();
});

afterAll(async () => {
  await api?.close();
});

function client(connectionParams: Record<string, unknown> = {}): Client {
  const c = createClient({
    url: api.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(c);
  return c;
}

interface Received<T> {
  at: number;
  data: T;
}

/** Subscribes and collects every message with its arrival time; errors land in `errors`. */
function collect<T>(c: Client, query: string) {
  const messages: Received<T>[] = [];
  const errors: unknown[] = [];
  const stop = c.subscribe<T>(
    { query },
    {
      next: (m) => {
        if (m.errors) errors.push(...m.errors);
        else messages.push({ at: Date.now(), data: m.data as T });
      },
      error: (e) => errors.push(e),
      complete: () => {},
    },
  );
  return { messages, errors, stop };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let readingSeq = 0;
async function insertReading(deviceId: string, value: number): Promise<void> {
  readingSeq++;
  await api.db.query(
    `INSERT INTO dw.fact_sensor_reading (device_sk, asset_sk, metric_sk, date_key, time_key, reading_ts, value, batch_id)
     SELECT d.device_sk, -1, m.metric_sk, -1, -1, now() - interval '1 minute' + make_interval(secs => $3::int / 1000.0), $2, 0
     FROM dw.dim_device d, dw.dim_metric m
     WHERE d.device_nk = $1 AND d.is_current AND m.metric_code = 'temperature'`,
    [deviceId, value, readingSeq],
  );
}

interface LiveReadings {
  readings: {
    readings: { value: number; device: { id: string }; metric: { code: string } }[];
    conflated: number;
  };
}

describe('GraphQL subscriptions', () => {
  it('sends readings at most maxHz times a second, each time the latest value', async () => {
    const sub = collect<LiveReadings>(
      client(),
      `subscription { readings(deviceIds: ["dev-001"], maxHz: 2) {
         readings { value device { id } metric { code } } conflated } }`,
    );
    // The subscription is live once a first reading comes through.
    while (sub.messages.length === 0) {
      await insertReading('dev-001', -1);
      await new Promise((r) => setTimeout(r, 100));
      expect(sub.errors).toEqual([]);
    }
    const burstStart = Date.now();
    const last = 60;
    for (let v = 1; v <= last; v++) {
      await insertReading('dev-001', v);
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor('the last value', () =>
      sub.messages.some((m) => m.data.readings.readings.some((r) => r.value === last)),
    );
    const burst = sub.messages.filter((m) => m.at >= burstStart);
    const seconds = (burst.at(-1)!.at - burstStart) / 1000;
    expect(burst.length).toBeGreaterThanOrEqual(3);
    expect(burst.length).toBeLessThanOrEqual(Math.ceil(seconds * 2) + 1);
    // 500 ms apart, less jitter. From the second message on: the first one is sent later after its throttle
    // slot, as it also loads the device and metric the later ones find in the DataLoader cache.
    for (let i = 2; i < sub.messages.length; i++)
      expect(sub.messages[i]!.at - sub.messages[i - 1]!.at).toBeGreaterThanOrEqual(450);
    const final = burst.at(-1)!.data.readings;
    expect(final.readings).toEqual([
      { value: last, device: { id: 'dev-001' }, metric: { code: 'temperature' } },
    ]);
    expect(burst.reduce((n, m) => n + m.data.readings.conflated, 0)).toBeGreaterThan(40);
    sub.stop();
  });

  it('sends alert changes of the subscribed devices', async () => {
    const sub = collect<{ alerts: { key: string; status: string; device: { id: string } } }>(
      client(),
      'subscription { alerts(deviceIds: ["dev-002"]) { key status device { id } } }',
    );
    // Escalate until the change comes through: the first update may precede the subscription's start.
    let n = 0;
    while (sub.messages.length === 0 && n++ < 50) {
      await api.db.query(
        `UPDATE hub.alert SET status = 'escalated', escalated_at = now(), updated_at = clock_timestamp()
         WHERE device_id IN ('dev-002', 'dev-003')`,
      );
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sub.errors).toEqual([]);
    expect(sub.messages[0]!.data.alerts).toEqual({
      key: 'dev-002:temperature_high',
      status: 'escalated',
      device: { id: 'dev-002' },
    });
    expect(sub.messages.every((m) => m.data.alerts.device.id === 'dev-002')).toBe(true);
    sub.stop();
  });

  it('refuses bad arguments and unauthenticated connections with the reason', async () => {
    const bad = collect(
      client(),
      'subscription { readings(deviceIds: ["dev-001"], maxHz: 500) { conflated } }',
    );
    await waitFor('the error', () => bad.errors.length > 0);
    expect((bad.errors[0] as { message: string }).message).toBe('maxHz must be between 0.1 and 50, got 500');

    const refused = collect(
      client({ 'x-test-deny': 'yes' }),
      'subscription { readings(deviceIds: ["dev-001"]) { conflated } }',
    );
    await waitFor('the close', () => refused.errors.length > 0);
    expect(refused.errors[0]).toMatchObject({
      code: 4403,
      reason: 'send Authorization: Bearer <JWT> or x-api-key',
    });
  });
});
