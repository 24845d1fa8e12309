import { GraphQLError } from 'graphql';

// A stand-in for the governance face (src/graphql/governance/index.ts) in the GraphQL entity tests, so they measure
// the resolvers alone: every request is an admin of all sites, or of the sites in `x-test-sites`; a request
// with `x-test-deny` is refused as governance would (UNAUTHENTICATED, 401). Governance has its own tests
// (graphql-governance*.test.ts).

export function governanceStandIn() {
  return {
    loadPolicy: () => ({ file: 'stand-in' }),
    authenticate: async (headers: Record<string, string | string[] | undefined>) => {
      if (headers['x-test-deny'])
        throw new GraphQLError('send Authorization: Bearer <JWT> or x-api-key', {
          extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
        });
      const sites = headers['x-test-sites'];
      return {
        subject: 'test',
        role: 'admin',
        kind: 'user' as const,
        sites: typeof sites === 'string' ? sites.split(',') : null,
        claims: {},
      };
    },
    applyFieldPolicy: <T>(schema: T) => schema,
    governanceOptions: () => ({ plugins: [], validationRules: [], introspection: true }),
    checkSubscription: () => [],
    newAuditTrail: () => ({ fields: new Set<string>(), classifications: new Set<string>(), rows: 0 }),
  };
}
