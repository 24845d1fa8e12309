import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { jwtSecret } from './local-secret.ts';
import type { JwtPolicy, Policy, Principal, RolePolicy } from './types.ts';

export type Headers = Record<string, string | string[] | undefined>;

export interface ApiKeyCreated {
  /** Shown once; only its hash goes into schema/policy.yaml. */
  key: string;
  sha256: string;
}

/**
 * Who sends the request: a Bearer JWT, an API key (x-api-key or `Authorization: ApiKey <key>`) or, with no
 * credentials, the anonymous role when it is enabled. Throws GraphQLError UNAUTHENTICATED (HTTP 401) for
 * missing or invalid credentials and FORBIDDEN (403) for a role that is unknown or disabled.
 * Works for graphql-ws connectionParams too (pass them as headers).
 */
export async function authenticate(headers: Headers, policy: Policy): Promise<Principal> {
  const authorization = header(headers, 'authorization');
  const [scheme, credential] = splitAuthorization(authorization);
  const apiKey = header(headers, policy.auth.apiKeyHeader) ?? (scheme === 'apikey' ? credential : undefined);
  if (apiKey) return fromApiKey(apiKey, policy);
  if (scheme === 'bearer' && credential) return fromJwt(credential, policy);
  if (authorization) throw unauthenticated(`Unsupported Authorization scheme. ${howToAuthenticate(policy)}`);
  const anonymous = policy.roles.get(policy.anonymousRole);
  if (anonymous?.enabled)
    return { subject: 'anonymous', role: anonymous.name, kind: 'anonymous', sites: null, claims: {} };
  throw unauthenticated(`Authentication required. ${howToAuthenticate(policy)}`);
}

/** The hex sha256 stored in schema/policy.yaml for an API key. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random API key (256 bits) and its hash. */
export function createApiKey(): ApiKeyCreated {
  const key = `hub_${randomBytes(32).toString('base64url')}`;
  return { key, sha256: hashApiKey(key) };
}

function fromApiKey(key: string, policy: Policy): Principal {
  const hash = Buffer.from(hashApiKey(key), 'hex');
  // Constant time, so response timing does not reveal how much of a hash matched.
  const entry = policy.auth.apiKeys.find((k) => timingSafeEqual(Buffer.from(k.sha256, 'hex'), hash));
  if (!entry) throw unauthenticated(`Unknown API key. ${howToAuthenticate(policy)}`);
  const role = enabledRole(entry.role, policy, `API key '${entry.name}'`);
  if (role.rowFilter === 'claim' && entry.sites === null)
    throw forbidden(
      `API key '${entry.name}' has role '${role.name}', which sees only listed sites, but the key lists none (sites: in ${policy.file}).`,
    );
  return {
    subject: entry.name,
    role: role.name,
    kind: 'service',
    sites: role.rowFilter === 'claim' ? entry.sites : null,
    claims: {},
  };
}

// Verified tokens per policy: a BI tool sends the same token with every request, and verifying a signature costs
// more than the rest of authentication. Kept until the token expires, at most 5 minutes (a JWKS key rotation
// or a policy reload is seen within that time), the oldest dropped past 10,000.
const verified = new WeakMap<Policy, Map<string, { principal: Principal; untilMs: number }>>();
const verifiedMaxAgeMs = 5 * 60_000;
const verifiedMaxEntries = 10_000;

async function fromJwt(token: string, policy: Policy): Promise<Principal> {
  let cache = verified.get(policy);
  if (!cache) {
    cache = new Map();
    verified.set(policy, cache);
  }
  const hit = cache.get(token);
  if (hit && Date.now() < hit.untilMs) return hit.principal;
  if (hit) cache.delete(token);
  const principal = await verifyJwt(token, policy);
  const exp = principal.claims.exp;
  const untilMs = Math.min(
    typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY,
    Date.now() + verifiedMaxAgeMs,
  );
  if (cache.size >= verifiedMaxEntries) cache.delete(cache.keys().next().value!);
  cache.set(token, { principal, untilMs });
  return principal;
}

async function verifyJwt(token: string, policy: Policy): Promise<Principal> {
  const jwt = policy.auth.jwt;
  if (!jwt)
    throw unauthenticated(`This API does not accept JWTs (no auth.jwt in ${policy.file}); send an API key.`);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, verificationKey(jwt), {
      issuer: jwt.issuer,
      audience: jwt.audience,
      algorithms: jwt.secretEnv ? ['HS256', 'HS384', 'HS512'] : undefined,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JOSEError)
      throw unauthenticated(`Invalid token: ${describeJoseError(err)}.`);
    throw err;
  }
  const subject = payload[jwt.subjectClaim];
  const roleName = payload[jwt.roleClaim];
  if (typeof roleName !== 'string')
    throw forbidden(
      `The token has no '${jwt.roleClaim}' claim naming a role (roles: ${enabledRoleNames(policy)}).`,
    );
  const role = enabledRole(roleName, policy, 'The token');
  let sites: string[] | null = null;
  if (role.rowFilter === 'claim') {
    sites = sitesFrom(payload[jwt.sitesClaim]);
    if (sites === null)
      throw forbidden(
        `Role '${role.name}' sees only its sites, but the token has no '${jwt.sitesClaim}' claim (an array of site keys).`,
      );
  }
  return {
    subject: typeof subject === 'string' ? subject : 'unknown',
    role: role.name,
    kind: 'user',
    sites,
    claims: payload,
  };
}

// One key (or JWKS fetcher, which caches and refreshes keys itself) per JWT policy.
const keys = new WeakMap<JwtPolicy, Uint8Array | ReturnType<typeof createRemoteJWKSet>>();

function verificationKey(jwt: JwtPolicy): Uint8Array | ReturnType<typeof createRemoteJWKSet> {
  let key = keys.get(jwt);
  if (!key) {
    if (jwt.jwksUrl) key = createRemoteJWKSet(new URL(jwt.jwksUrl));
    else key = jwtSecret(jwt);
    keys.set(jwt, key);
  }
  return key;
}

function describeJoseError(err: InstanceType<typeof joseErrors.JOSEError>): string {
  if (err instanceof joseErrors.JWTExpired) return 'it has expired; get a new one';
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return `claim '${err.claim}' ${err.reason === 'check_failed' ? 'is not accepted' : err.reason} (${err.message})`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the JWKS matches its kid';
  return err.message;
}

function sitesFrom(claim: unknown): string[] | null {
  if (Array.isArray(claim) && claim.every((s) => typeof s === 'string')) return claim;
  if (typeof claim === 'string')
    return claim
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  return null;
}

function enabledRole(name: string, policy: Policy, who: string): RolePolicy {
  const role = policy.roles.get(name);
  if (!role?.enabled)
    throw forbidden(
      `${who} has role '${name}', which is not an enabled role of ${policy.file} (roles: ${enabledRoleNames(policy)}).`,
    );
  return role;
}

function enabledRoleNames(policy: Policy): string {
  return [...policy.roles.values()]
    .filter((r) => r.enabled)
    .map((r) => r.name)
    .join(', ');
}

function howToAuthenticate(policy: Policy): string {
  const ways = [];
  if (policy.auth.jwt) ways.push("'Authorization: Bearer <JWT>'");
  ways.push(`'${policy.auth.apiKeyHeader}: <API key>'`);
  return `Send ${ways.join(' or ')}.`;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function splitAuthorization(value: string | undefined): [string | undefined, string | undefined] {
  if (!value) return [undefined, undefined];
  const space = value.indexOf(' ');
  if (space < 0) return [value.toLowerCase(), undefined];
  return [value.slice(0, space).toLowerCase(), value.slice(space + 1).trim()];
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}
