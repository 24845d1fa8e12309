import { readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  checkOperation,
  checkSubscription,
  type Principal,
  parsePolicy,
} from '../../../../src/graphql/governance/index.ts';

const schema = makeExecutableSchema({
  typeDefs: [
    readFileSync('schema/governance.graphql', 'utf8'),
    `type Query { devices(first: Int): [Device!]!  sites: [String!]! }
     type Device { id: ID!  readings(first: Int): [Reading!]!  parent: Device }
     type Reading { value: Float }`,
  ],
});

const policy = parsePolicy(
  `
defaults:
  assumed_list_size: 10
roles:
  analyst:
    classification: { PUBLIC: allow }
    limits: { depth: 4, aliases: 2, tokens: 60, cost: 5000, max_rows: 500 }
  admin:
    introspection: true
    classification: { PUBLIC: allow }
`,
  'policy.yaml',
);
const analyst: Principal = { subject: 'maria', role: 'analyst', kind: 'user', sites: null, claims: {} };

function check(query: string, variables: Record<string, unknown> = {}, principal = analyst) {
  const failure = checkOperation({
    schema,
    policy,
    principal,
    document: parse(query),
    source: query,
    variables,
  });
  return failure && { message: failure.message, ...failure.extensions };
}

describe('checkOperation', () => {
  it('lets an operation within every limit through', () => {
    expect(check('{ devices(first: 10) { id readings(first: 100) { value } } }')).toBeNull();
  });

  it('refuses a deep query, saying the limit and the depth found', () => {
    expect(check('{ devices(first: 1) { parent { parent { parent { parent { id } } } } } }')).toEqual({
      message: "Query depth is 6, more than the limit of 4 for role 'analyst'.",
      code: 'DEPTH_LIMIT',
      limit: 4,
      found: 6,
      http: { status: 400 },
    });
  });

  it('refuses too many aliases', () => {
    expect(check('{ a: sites b: sites c: sites }')).toMatchObject({
      message: "Query uses 3 aliases, more than the limit of 2 aliases for role 'analyst'.",
      code: 'ALIAS_LIMIT',
    });
  });

  it('refuses too many tokens', () => {
    const query = `{ ${Array.from({ length: 70 }, () => 'sites').join(' ')} }`;
    expect(check(query)).toMatchObject({
      message: "Query has 72 tokens, more than the limit of 60 tokens for role 'analyst'.",
      code: 'TOKEN_LIMIT',
    });
  });

  it('refuses a page larger than the row limit, also through a variable', () => {
    expect(check('query ($n: Int) { devices(first: $n) { id } }', { n: 5000 })).toMatchObject({
      message:
        "Argument first of devices asks for 5000 rows, more than the limit of 500 rows for role 'analyst'.",
      code: 'ROW_LIMIT',
    });
  });

  it('multiplies child cost by list sizes', () => {
    // 10 × (1 + 100 × (1 + 1)) = 2010: allowed; 100 × (1 + 500 × 2) = 100100: refused.
    expect(check('{ devices(first: 10) { readings(first: 100) { value } } }')).toBeNull();
    expect(check('{ devices(first: 100) { readings(first: 500) { value } } }')).toMatchObject({
      message: "Query cost is 100100, more than the limit of 5000 for role 'analyst'.",
      code: 'QUERY_TOO_COMPLEX',
    });
    // Without first: the assumed 10 per list: 10 × (1 + 10 × 2) = 210.
    expect(check('{ devices { readings { value } } }')).toBeNull();
  });

  it('checks a document sent again (Apollo reuses its parse) under the variables and role of each request', () => {
    const byVariable = parse('query ($n: Int) { devices(first: $n) { readings(first: 100) { value } } }');
    const run = (variables: Record<string, unknown>, principal = analyst, document = byVariable) =>
      checkOperation({ schema, policy, principal, document, variables })?.extensions.code ?? null;
    expect(run({ n: 10 })).toBeNull();
    expect(run({ n: 100 })).toBe('QUERY_TOO_COMPLEX');
    expect(run({ n: 10 })).toBeNull();
    // Literal sizes: the cost is computed once for the document, each role's limit still applies.
    const literal = parse('{ devices(first: 50) { readings(first: 100) { value } } }'); // cost 10050
    expect(run({}, analyst, literal)).toBe('QUERY_TOO_COMPLEX');
    expect(run({}, { ...analyst, role: 'admin' }, literal)).toBeNull();
    expect(run({}, analyst, literal)).toBe('QUERY_TOO_COMPLEX');
  });

  it('allows introspection only to roles with it', () => {
    expect(check('{ __schema { types { name } } }')).toMatchObject({
      message: "Introspection (__schema, __type) is not allowed for role 'analyst'; roles allowed it: admin.",
      code: 'FORBIDDEN',
      http: { status: 403 },
    });
    expect(check('{ __type(name: "Device") { name } }', {}, { ...analyst, role: 'admin' })).toBeNull();
    expect(check('{ __typename sites }')).toBeNull();
  });
});

describe('checkSubscription', () => {
  it('applies the same limits to graphql-ws operations', () => {
    const query = '{ devices(first: 1) { parent { parent { parent { parent { id } } } } } }';
    const errors = checkSubscription({
      schema,
      policy,
      principal: analyst,
      document: parse(query),
      source: query,
    });
    expect(errors.map((e) => e.extensions.code)).toEqual(['DEPTH_LIMIT']);
    expect(checkSubscription({ schema, policy, principal: analyst, document: parse('{ sites }') })).toEqual(
      [],
    );
  });

  it('refuses an operation outside the persisted allow-list', () => {
    const allowList = {
      ...policy,
      persistedOperations: { enabled: true, operations: new Map([['x', '{ sites }']]) },
    };
    const errors = checkSubscription({
      schema,
      policy: allowList,
      principal: analyst,
      document: parse('{ sites }'),
    });
    expect(errors[0]?.message).toBe(
      'Operation is not in the persisted operation allow-list (persisted_operations in policy.yaml).',
    );
  });
});
