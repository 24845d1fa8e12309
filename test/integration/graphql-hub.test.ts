import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig, type HubConfig } from '../../src/config/index.ts';
import { type RunningHub, startHub } from '../../src/hub.ts';
import { freshDatabase } from './graphql-harness.ts';

// The GraphQL stage as startHub runs it, with the real governance (schema/policy.yaml): /readyz reports it,
// credentials are asked for, a JWT of the policy's issuer gets an answer (docs/graphql.md, "Running").

const secret = 'graphql-hub-test-secret-0123456789abcdef';
let hub: RunningHub;
let base: string;

beforeAll(async () => {
  process.env.HUB_GRAPHQL_JWT_SECRET = secret;
  const url = await freshDatabase(inject('serverUrl'), 'iot_hub_test_graphql_hub');
  const config: HubConfig = {
    ...structuredClone(defaultConfig),
    file: null,
    database: { url, poolMax: 4 },
    http: { port: 0 },
    log: { level: 'silent' },
  };
  hub = await startHub(config, {
    ingest: false,
    alerts: false,
    tickets: false,
    cdc: false,
    quality: false,
    deviceState: false,
    cmdbPoll: false,
    cmdbSink: false,
  });
  base = `http://127.0.0.1:${hub.http.port}`;
});

afterAll(async () => {
  await hub?.stop();
});

async function token(role: string): Promise<string> {
  return new SignJWT({ hub_role: role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('tester')
    .setIssuer('iot-hub-idp')
    .setAudience('iot-hub-graphql')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

describe('the graphql stage of startHub', () => {
  it('is ready in /readyz', async () => {
    const res = await fetch(`${base}/readyz`);
    const body = (await res.json()) as { dependencies: Record<string, { up: boolean }> };
    expect(body.dependencies.graphql).toMatchObject({ up: true });
  });

  it('asks for credentials, and answers an admin', async () => {
    const query = JSON.stringify({ query: '{ metricDefinitions { code unit } }' });
    const anonymous = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: query,
    });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(
      /^Authentication required/,
    );
    const admin = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token('admin')}` },
      body: query,
    });
    const body = (await admin.json()) as { data: { metricDefinitions: { code: string; unit: string }[] } };
    expect(admin.status).toBe(200);
    expect(body.data.metricDefinitions).toContainEqual({ code: 'temperature', unit: 'Cel' });
  });
});
