import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/index.ts';
import { ServiceNowError } from '../../../src/itsm/servicenow-error.ts';
import { ServiceNowHealth } from '../../../src/itsm/servicenow-health.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  return { lines, logger };
}

const refused = () =>
  new ServiceNowError('auth', 'GET /api/now/v2/table/incident: 401 User Not Authenticated', {
    status: 401,
    method: 'GET',
    path: '/api/now/v2/table/incident',
  });

describe('ServiceNow health', () => {
  it('reports refused Basic credentials naming servicenow.auth.password and the user, logged once, never the secret', async () => {
    const { lines, logger } = capture();
    let answer: Error | null = refused();
    const auth = { ...defaultConfig.servicenow.auth, username: 'svc-iot', password: 'Sup3r-secret' };
    const health = new ServiceNowHealth({
      probe: async () => {
        if (answer) throw answer;
      },
      auth,
      url: 'http://sn.example',
      logger,
    });
    expect(health.status()).toMatchObject({ up: false, state: 'unchecked' });
    for (let i = 0; i < 3; i++) await health.check();
    const status = health.status();
    expect(status).toMatchObject({ up: false, state: 'auth' });
    expect(status.error).toContain('servicenow.auth.password for user "svc-iot"');
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      configKey: 'servicenow.auth.password',
      user: 'svc-iot',
      mode: 'basic',
    });
    expect(JSON.stringify(lines)).not.toContain('Sup3r-secret');

    answer = null;
    expect(await health.check()).toMatchObject({ up: true, state: 'ok' });
    expect(lines.at(-1)?.msg).toBe('ServiceNow accepts the hub credentials again');
  });

  it('names the OAuth client secret (and the password with the password grant)', async () => {
    const { lines, logger } = capture();
    const health = new ServiceNowHealth({
      probe: async () => {
        throw refused();
      },
      auth: { ...defaultConfig.servicenow.auth, mode: 'oauth', username: '', clientId: 'hub' },
      url: 'http://sn.example',
      logger,
    });
    const status = await health.check();
    expect(status.error).toContain('servicenow.auth.clientSecret for OAuth client "hub"');
    expect(lines[0]).toMatchObject({ configKey: 'servicenow.auth.clientSecret', mode: 'oauth' });
  });

  it('tells an outage and a missing role apart from refused credentials; an outage is not logged here', async () => {
    const { lines, logger } = capture();
    let answer: Error = new ServiceNowError('network', 'GET x: connect ECONNREFUSED', {
      method: 'GET',
      path: 'x',
    });
    const health = new ServiceNowHealth({
      probe: async () => {
        throw answer;
      },
      auth: defaultConfig.servicenow.auth,
      url: 'http://sn.example',
      logger,
    });
    expect(await health.check()).toMatchObject({ up: false, state: 'unavailable' });
    expect(lines).toHaveLength(0);
    answer = new ServiceNowError('rejected', 'GET x: 403 Forbidden', {
      status: 403,
      method: 'GET',
      path: 'x',
    });
    expect(await health.check()).toMatchObject({ up: false, state: 'forbidden' });
    expect(lines).toHaveLength(1);
  });
});
