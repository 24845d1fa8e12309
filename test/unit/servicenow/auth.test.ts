import { afterEach, describe, expect, it } from 'vitest';
import { basicAuth, startEmulator } from './emulator-client.ts';

const notAuthenticated = {
  error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' },
  status: 'failure',
};
const oauthDenied = { error_description: 'access_denied', error: 'server_error' };

let sn: Awaited<ReturnType<typeof startEmulator>> | undefined;
afterEach(async () => {
  await sn?.emulator.close();
  sn = undefined;
});

const tokenRequest = (form: Record<string, string>, contentType = 'application/x-www-form-urlencoded') =>
  sn?.call('POST', '/oauth_token.do', {
    auth: false,
    text: contentType.includes('json') ? JSON.stringify(form) : new URLSearchParams(form).toString(),
    headers: { 'Content-Type': contentType },
  });

describe('Basic auth', () => {
  it.each([
    ['no credentials', false as const],
    ['a wrong password', basicAuth('admin', 'nope')],
    ['an unknown user', basicAuth('eve', 'admin')],
  ])('answers 401 with the documented body and WWW-Authenticate for %s', async (_, auth) => {
    sn = await startEmulator();
    const res = await sn.call('GET', '/api/now/table/incident', { auth });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(notAuthenticated);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="Service-now"');
  });

  it('accepts the default admin/admin and sets X-Is-Logged-In', async () => {
    sn = await startEmulator();
    const res = await sn.call('GET', '/api/now/table/incident');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-is-logged-in')).toBe('true');
  });

  it('accepts overridden credentials and refuses the defaults', async () => {
    sn = await startEmulator({ user: { username: 'integration', password: 's3cret' } });
    expect(
      (await sn.call('GET', '/api/now/table/incident', { auth: basicAuth('integration', 's3cret') })).status,
    ).toBe(200);
    expect((await sn.call('GET', '/api/now/table/incident')).status).toBe(401);
  });
});

describe('OAuth /oauth_token.do', () => {
  const password = {
    grant_type: 'password',
    client_id: 'hub',
    client_secret: 'hub-secret',
    username: 'admin',
    password: 'admin',
  };

  it('password grant answers an access and a refresh token in the documented shape', async () => {
    sn = await startEmulator();
    const res = await tokenRequest(password);
    expect(res?.status).toBe(200);
    expect(res?.json).toEqual({
      scope: 'useraccount',
      token_type: 'Bearer',
      expires_in: 1799,
      refresh_token: expect.any(String),
      access_token: expect.any(String),
    });
    const api = await sn.call('GET', '/api/now/table/incident', { auth: `Bearer ${res?.json.access_token}` });
    expect(api.status).toBe(200);
  });

  it('returns the current token while it is still valid', async () => {
    sn = await startEmulator();
    const first = await tokenRequest(password);
    const second = await tokenRequest(password);
    expect(second?.json.access_token).toBe(first?.json.access_token);
  });

  it('client_credentials answers an access token only; disabled, it fails like a bad secret', async () => {
    sn = await startEmulator();
    const res = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: 'hub',
      client_secret: 'hub-secret',
    });
    expect(res?.status).toBe(200);
    expect(res?.json.refresh_token).toBeUndefined();
    expect(
      (await sn.call('GET', '/api/now/table/incident', { auth: `Bearer ${res?.json.access_token}` })).status,
    ).toBe(200);
    await sn.emulator.close();
    sn = await startEmulator({ clientCredentialsGrant: false });
    const off = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: 'hub',
      client_secret: 'hub-secret',
    });
    expect(off?.status).toBe(401);
    expect(off?.json).toEqual(oauthDenied);
  });

  it.each([
    ['a bad client secret', { ...password, client_secret: 'nope' }, undefined],
    ['a bad user password', { ...password, password: 'nope' }, undefined],
    ['an unknown grant', { ...password, grant_type: 'authorization_code' }, undefined],
    ['a JSON body', password, 'application/json'],
  ])('answers 401 access_denied/server_error for %s', async (_, form, contentType) => {
    sn = await startEmulator();
    const res = await tokenRequest(form, contentType);
    expect(res?.status).toBe(401);
    expect(res?.json).toEqual(oauthDenied);
  });

  it('an expired token gets the 401 with WWW-Authenticate BEARER; the refresh token gets a new one', async () => {
    let clock = Date.UTC(2026, 0, 1);
    sn = await startEmulator({ now: () => clock, accessTokenSeconds: 60 });
    const issued = (await tokenRequest(password))?.json;
    expect(issued.expires_in).toBe(59);
    clock += 61_000;
    const expired = await sn.call('GET', '/api/now/table/incident', {
      auth: `Bearer ${issued.access_token}`,
    });
    expect(expired.status).toBe(401);
    expect(expired.json).toEqual(notAuthenticated);
    expect(expired.headers.get('www-authenticate')).toBe('BEARER realm="Service-now"');
    const refreshed = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: 'hub',
      client_secret: 'hub-secret',
      refresh_token: issued.refresh_token,
    });
    expect(refreshed?.status).toBe(200);
    expect(refreshed?.json.refresh_token).toBeUndefined();
    expect(refreshed?.json.access_token).not.toBe(issued.access_token);
    expect(
      (await sn.call('GET', '/api/now/table/incident', { auth: `Bearer ${refreshed?.json.access_token}` }))
        .status,
    ).toBe(200);
  });

  it('expireAccessTokens() expires every token at once (token expiry mid-run)', async () => {
    sn = await startEmulator();
    const issued = (await tokenRequest(password))?.json;
    sn.emulator.expireAccessTokens();
    expect(
      (await sn.call('GET', '/api/now/table/incident', { auth: `Bearer ${issued.access_token}` })).status,
    ).toBe(401);
    const again = await tokenRequest(password);
    expect(again?.json.access_token).not.toBe(issued.access_token);
  });

  it('a bad refresh token is refused', async () => {
    sn = await startEmulator();
    const res = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: 'hub',
      client_secret: 'hub-secret',
      refresh_token: 'x',
    });
    expect(res?.status).toBe(401);
    expect(res?.json).toEqual(oauthDenied);
  });
});
