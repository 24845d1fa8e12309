import { readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { execute, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  applyFieldPolicy,
  maskConfidential,
  newAuditTrail,
  type Principal,
  parsePolicy,
} from '../../../../src/graphql/governance/index.ts';

const policy = parsePolicy(
  `
roles:
  admin: { classification: { PUBLIC: allow, OPERATIONAL: allow, CONFIDENTIAL: allow, PII: allow } }
  analyst: { classification: { PUBLIC: allow, OPERATIONAL: mask, CONFIDENTIAL: mask, PII: mask } }
  bi_service: { classification: { PUBLIC: allow, OPERATIONAL: allow, CONFIDENTIAL: hide, PII: deny } }
  small: { classification: { PUBLIC: allow }, limits: { max_rows: 2 } }
`,
  'policy.yaml',
);

const schema = applyFieldPolicy(
  makeExecutableSchema({
    typeDefs: [
      readFileSync('schema/governance.graphql', 'utf8'),
      `type Query { technicians: [Technician!]! }
       type Technician {
         name: String @classified(level: PII)
         serial: String @classified(level: CONFIDENTIAL)
         hours: Float @classified(level: OPERATIONAL)
         site: String! @classified(level: PUBLIC)
       }`,
    ],
    resolvers: {
      Query: {
        technicians: async () => [
          { name: 'Maria Schmidt', serial: 'SN-100234', hours: 7.5, site: 'S1' },
          { name: 'Jan Novak', serial: 'SN-100235', hours: 3, site: 'S2' },
          { name: 'Li Wei', serial: 'SN-9', hours: 1, site: 'S2' },
        ],
      },
    },
  }),
  policy,
);

async function run(role: string, query = '{ technicians { name serial hours site } }') {
  const principal: Principal = { subject: 'test', role, kind: 'user', sites: null, claims: {} };
  const audit = newAuditTrail();
  const result = await execute({ schema, document: parse(query), contextValue: { principal, audit } });
  return { result, audit };
}

describe('applyFieldPolicy', () => {
  it('returns values as stored to a role allowed every class', async () => {
    const { result } = await run('admin');
    expect(result.errors).toBeUndefined();
    expect((result.data as { technicians: unknown[] }).technicians[0]).toEqual({
      name: 'Maria Schmidt',
      serial: 'SN-100234',
      hours: 7.5,
      site: 'S1',
    });
  });

  it('masks PII to its last 2 characters, CONFIDENTIAL to a hash and non-text classes to null', async () => {
    const { result, audit } = await run('analyst');
    expect(result.errors).toBeUndefined();
    expect((result.data as { technicians: unknown[] }).technicians[0]).toEqual({
      name: '***dt',
      serial: maskConfidential('SN-100234'),
      hours: null,
      site: 'S1',
    });
    expect([...audit.fields].sort()).toEqual([
      'Technician.hours',
      'Technician.name',
      'Technician.serial',
      'Technician.site',
    ]);
    expect([...audit.classifications].sort()).toEqual(['CONFIDENTIAL', 'OPERATIONAL', 'PII', 'PUBLIC']);
  });

  it('answers a denied field with null and a FORBIDDEN error naming the field and the role', async () => {
    const { result } = await run('bi_service');
    const rows = (result.data as { technicians: Record<string, unknown>[] }).technicians;
    expect(rows[0]).toEqual({ name: null, serial: null, hours: 7.5, site: 'S1' });
    expect(result.errors?.[0]?.message).toBe(
      "Field Technician.name is classified PII, which role 'bi_service' may not read.",
    );
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'Technician.name' });
    expect(result.errors).toHaveLength(3);
  });

  it('fails a root list longer than the role may read with ROW_LIMIT', async () => {
    const { result } = await run('small', '{ technicians { site } }');
    expect(result.errors?.[0]?.message).toBe(
      "Query.technicians returned 3 rows, more than the limit of 2 rows for role 'small'; narrow the query or page with first/limit.",
    );
    expect(result.errors?.[0]?.extensions.code).toBe('ROW_LIMIT');
  });

  it('keeps @classified in the SDL and notes the class in the description', () => {
    const sdl = printSchemaWithDirectives(schema);
    expect(sdl).toContain('name: String @classified(level: PII)');
    expect(schema.getType('Technician')?.toConfig()).toBeDefined();
    const field = (schema.getType('Technician') as import('graphql').GraphQLObjectType).getFields().serial!;
    expect(field.description).toBe('Classification: CONFIDENTIAL.');
  });
});
