import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticate,
  createApiKey,
  hashApiKey,
  type Policy,
  parsePolicy,
} from '../../../../src/graphql/governance/index.ts';

const SECRET = 'g2-unit-test-secret-of-at-least-32-bytes!';
process.env.G2_TEST_JWT_SECRET = SECRET;

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const powerbi = createApiKey();
const plantKey = createApiKey();

function policyText(jwt: string, anonymousEnabled = false): string {
  return `
auth:
  jwt: { ${jwt}, issuer: test-idp, audience: hub, role_claim: hub_role, sites_claim: hub_sites }
  api_keys:
    - { name: powerbi, sha256: ${powerbi.sha256}, role: bi_service }
    - { name: plant-dashboard, sha256: ${plantKey.sha256}, role: plant_manager, sites: [S1] }
roles:
  analyst: { classification: { PUBLIC: allow } }
  plant_manager: { row_filter: sites, classification: { PUBLIC: allow } }
  bi_service: { classification: { PUBLIC: allow } }
  retired: { enabled: false }
  anonymous: { enabled: ${anonymousEnabled}, classification: { PUBLIC: allow } }
`;
}

const secretPolicy = parsePolicy(policyText('secret_env: G2_TEST_JWT_SECRET'), 'policy.yaml');

function token(claims: Record<string, unknown>, options: { expires?: string; issuer?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('maria')
    .setIssuer(options.issuer ?? 'test-idp')
    .setAudience('hub')
    .setIssuedAt()
    .setExpirationTime(options.expires ?? '5m')
    .sign(new TextEncoder().encode(SECRET));
}

async function rejection(p: Promise<unknown>): Promise<{ message: string; code: unknown; status: unknown }> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphQLError);
  const g = err as GraphQLError;
  return {
    message: g.message,
    code: g.extensions.code,
    status: (g.extensions.http as { status: number }).status,
  };
}

describe('authenticate with a shared secret', () => {
  it('turns a valid token into a principal with its role and subject', async () => {
    const principal = await authenticate(
      { authorization: `Bearer ${await token({ hub_role: 'analyst' })}` },
      secretPolicy,
    );
    expect(principal).toMatchObject({ subject: 'maria', role: 'analyst', kind: 'user', sites: null });
  });

  it('takes the sites of a site-filtered role from its claim', async () => {
    const principal = await authenticate(
      { authorization: `Bearer ${await token({ hub_role: 'plant_manager', hub_sites: ['S1', 'S2'] })}` },
      secretPolicy,
    );
    expect(principal.sites).toEqual(['S1', 'S2']);
  });

  it('refuses a site-filtered role whose token has no sites claim (403)', async () => {
    const r = await rejection(
      authenticate({ authorization: `Bearer ${await token({ hub_role: 'plant_manager' })}` }, secretPolicy),
    );
    expect(r).toEqual({
      message:
        "Role 'plant_manager' sees only its sites, but the token has no 'hub_sites' claim (an array of site keys).",
      code: 'FORBIDDEN',
      status: 403,
    });
  });

  it('says what to send when there are no credentials (401)', async () => {
    const r = await rejection(authenticate({}, secretPolicy));
    expect(r).toEqual({
      message: "Authentication required. Send 'Authorization: Bearer <JWT>' or 'x-api-key: <API key>'.",
      code: 'UNAUTHENTICATED',
      status: 401,
    });
  });

  it('refuses a token past its expiry', async () => {
    const expired = await token({ hub_role: 'analyst' }, { expires: '1s' });
    await new Promise((r) => setTimeout(r, 2100));
    const r = await rejection(authenticate({ authorization: `Bearer ${expired}` }, secretPolicy));
    expect(r).toMatchObject({ message: 'Invalid token: it has expired; get a new one.', status: 401 });
  });

  it('refuses a token of another issuer and one signed with another secret', async () => {
    const other = await rejection(
      authenticate(
        { authorization: `Bearer ${await token({ hub_role: 'analyst' }, { issuer: 'evil' })}` },
        secretPolicy,
      ),
    );
    expect(other.message).toMatch(/^Invalid token: claim 'iss' /);
    const forged = await new SignJWT({ hub_role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('test-idp')
      .setAudience('hub')
      .sign(new TextEncoder().encode('another secret of at least 32 bytes!!'));
    const r = await rejection(authenticate({ authorization: `Bearer ${forged}` }, secretPolicy));
    expect(r.message).toBe('Invalid token: the signature does not verify.');
  });

  it('refuses a disabled or unknown role, naming the enabled ones (403)', async () => {
    const r = await rejection(
      authenticate({ authorization: `Bearer ${await token({ hub_role: 'retired' })}` }, secretPolicy),
    );
    expect(r.message).toBe(
      "The token has role 'retired', which is not an enabled role of policy.yaml (roles: analyst, plant_manager, bi_service).",
    );
    expect(r.status).toBe(403);
  });

  it('lets requests without credentials in as anonymous only when that role is enabled', async () => {
    const open = parsePolicy(policyText('secret_env: G2_TEST_JWT_SECRET', true), 'policy.yaml');
    expect(await authenticate({}, open)).toMatchObject({ role: 'anonymous', kind: 'anonymous', sites: null });
  });
});

describe('authenticate with API keys', () => {
  it('finds a key by its hash, in the x-api-key header or as Authorization: ApiKey', async () => {
    expect(await authenticate({ 'x-api-key': powerbi.key }, secretPolicy)).toMatchObject({
      subject: 'powerbi',
      role: 'bi_service',
      kind: 'service',
      sites: null,
    });
    expect(await authenticate({ authorization: `ApiKey ${plantKey.key}` }, secretPolicy)).toMatchObject({
      subject: 'plant-dashboard',
      role: 'plant_manager',
      sites: ['S1'],
    });
  });

  it('refuses an unknown key (401)', async () => {
    const r = await rejection(authenticate({ 'x-api-key': 'hub_guess' }, secretPolicy));
    expect(r).toMatchObject({ message: expect.stringMatching(/^Unknown API key\. Send/), status: 401 });
  });

  it('stores keys as sha256 hex', () => {
    expect(powerbi.key).toMatch(/^hub_[A-Za-z0-9_-]{43}$/);
    expect(hashApiKey(powerbi.key)).toBe(powerbi.sha256);
  });
});

describe('authenticate with a JWKS', () => {
  let server: Server;
  let policy: Policy;
  let privateKey: PrivateKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    policy = parsePolicy(policyText(`jwks_url: "http://127.0.0.1:${port}/jwks.json"`), 'policy.yaml');
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const sign = (kid: string, key: PrivateKey) =>
    new SignJWT({ hub_role: 'analyst' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject('svc-user')
      .setIssuer('test-idp')
      .setAudience('hub')
      .setExpirationTime('5m')
      .sign(key);

  it('verifies a token signed with a key the JWKS serves', async () => {
    const principal = await authenticate({ authorization: `Bearer ${await sign('k1', privateKey)}` }, policy);
    expect(principal).toMatchObject({ subject: 'svc-user', role: 'analyst' });
  });

  it('refuses a token whose kid is not in the JWKS', async () => {
    const other = await generateKeyPair('RS256');
    const r = await rejection(
      authenticate({ authorization: `Bearer ${await sign('k2', other.privateKey)}` }, policy),
    );
    expect(r).toMatchObject({ message: 'Invalid token: no key of the JWKS matches its kid.', status: 401 });
  });
});
