import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashApiKey, loadPolicy, parsePolicy } from '../../../../src/graphql/governance/index.ts';

const minimal = `
roles:
  analyst:
    classification: { PUBLIC: allow, PII: mask }
`;

describe('loadPolicy', () => {
  it('loads schema/policy.yaml with its roles, defaults and the anonymous role disabled', () => {
    const policy = loadPolicy();
    expect([...policy.roles.keys()]).toEqual(['admin', 'analyst', 'viewer', 'bi-service', 'anonymous']);
    expect(policy.roles.get('anonymous')!.enabled).toBe(false);
    expect(policy.roles.get('viewer')!.rowFilter).toBe('claim');
    expect(policy.roles.get('analyst')!.limits).toEqual({
      depth: 8,
      aliases: 15,
      tokens: 2000,
      cost: 20000,
      maxRows: 10000,
    });
    expect(policy.persistedOperations.enabled).toBe(false);
    expect(policy.auth.jwt?.roleClaim).toBe('hub_role');
  });

  it('denies a class a role leaves out and takes built-in limits without defaults', () => {
    const role = parsePolicy(minimal, 'p.yaml').roles.get('analyst')!;
    expect(role.classification).toEqual({
      PUBLIC: 'allow',
      OPERATIONAL: 'deny',
      CONFIDENTIAL: 'deny',
      PII: 'mask',
    });
    expect(role.introspection).toBe(false);
    expect(role.limits.depth).toBe(8);
  });

  it('names the file, line, path and the allowed values for a wrong access', () => {
    const text = `roles:\n  analyst:\n    classification: { PII: redact }\n`;
    expect(() => parsePolicy(text, 'schema/policy.yaml')).toThrow(
      /^schema\/policy\.yaml:3:\d+: roles\.analyst\.classification\.PII: must be allow, mask, hide or deny/m,
    );
  });

  it('names an unknown key and the keys allowed there', () => {
    const text = `roles:\n  analyst:\n    introspect: true\n`;
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(
      /policy\.yaml:3:5: .*introspect.*allowed here: .*introspection/,
    );
  });

  it('refuses an API key written in clear instead of its sha256', () => {
    const text = `auth:\n  api_keys:\n    - { name: powerbi, sha256: hub_secret, role: analyst }\n${minimal}`;
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(
      /api_keys\[0\]\.sha256: must be the 64 lowercase hex characters/,
    );
  });

  it('refuses an API key whose role is not defined, listing the roles', () => {
    const text = `auth:\n  api_keys:\n    - { name: powerbi, sha256: ${hashApiKey('k')}, role: bi }\n${minimal}`;
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(
      "policy.yaml:3:104: auth.api_keys[0].role: role 'bi' is not defined under roles (defined: analyst)",
    );
  });

  it('refuses a JWT section with both a secret and a JWKS URL', () => {
    const text = `auth:\n  jwt: { secret_env: S, jwks_url: "https://idp/jwks" }\n${minimal}`;
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(
      'policy.yaml:2:8: auth.jwt: set exactly one of secret_env (the environment variable with a shared secret) and jwks_url',
    );
  });

  it('needs a manifest when persisted operations are enabled', () => {
    const text = `persisted_operations: { enabled: true }\n${minimal}`;
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(
      /persisted_operations: enabled: true needs manifest: <file>/,
    );
  });

  it('reads an Apollo persisted query manifest and rejects an id that is not the body hash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'g2-policy-'));
    const body = 'query Sites { sites { name } }';
    const id = createHash('sha256').update(body).digest('hex');
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id, body, name: 'Sites', type: 'query' }],
      }),
    );
    const policy = parsePolicy(
      `persisted_operations: { enabled: true, manifest: ${good} }\n${minimal}`,
      'p.yaml',
    );
    expect(policy.persistedOperations.operations.get(id)).toBe(body);

    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: 'abc', body }],
      }),
    );
    expect(() =>
      parsePolicy(`persisted_operations: { enabled: true, manifest: ${bad} }\n${minimal}`, 'p.yaml'),
    ).toThrow(`operations[0].id is not the sha256 of its body (expected ${id})`);
  });
});
