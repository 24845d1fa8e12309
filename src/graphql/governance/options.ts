import type {
  ApolloServerPlugin,
  GraphQLRequestContextWillSendResponse,
  PersistedQueryOptions,
} from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  type GraphQLFormattedError,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type pg from 'pg';
import { componentLogger, type Logger } from '../../observability/index.ts';
import { type AuditEntry, AuditWriter, fieldsRequested, sourceHash } from './audit.ts';
import { ceilingLimits, checkOperation, documentHash, limitError } from './operation-checks.ts';
import type { GovernedContext, Policy } from './types.ts';

export interface GovernanceDeps {
  db: pg.Pool;
  production: boolean;
  /** Where failed audit writes and hidden errors are logged (default: the process logger). */
  logger?: Logger;
}

/** Spread into `new ApolloServer({ schema, ...governanceOptions(policy, deps) })`. */
export interface GovernanceOptions<TContext extends GovernedContext> {
  plugins: ApolloServerPlugin<TContext>[];
  validationRules: ValidationRule[];
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  introspection: boolean;
  parseOptions: ParseOptions;
  includeStacktraceInErrorResponses: boolean;
  hideSchemaDetailsFromClientErrors: boolean;
  persistedQueries?: PersistedQueryOptions | false;
}

/** Error codes whose messages are written for clients; production shows every other error as internal. */
const CLIENT_ERROR_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'OPERATION_NOT_ALLOWED',
  'DEPTH_LIMIT',
  'ALIAS_LIMIT',
  'TOKEN_LIMIT',
  'ROW_LIMIT',
  'QUERY_TOO_COMPLEX',
]);
const LIMIT_CODES = new Set(['DEPTH_LIMIT', 'ALIAS_LIMIT', 'TOKEN_LIMIT', 'ROW_LIMIT', 'QUERY_TOO_COMPLEX']);
const DENIED_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'OPERATION_NOT_ALLOWED']);
const REJECTED_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'DEPTH_LIMIT',
  'ALIAS_LIMIT',
  'TOKEN_LIMIT',
  'ROW_LIMIT',
  'QUERY_TOO_COMPLEX',
  'PERSISTED_QUERY_NOT_FOUND',
]);

/**
 * Apollo Server options that enforce schema/policy.yaml (docs/graphql.md): graphql-armor depth and alias
 * rules at the largest role's limits plus a parser token cap for every request, then per role (once the
 * principal is known) introspection, tokens, depth, aliases, row arguments and list-size-aware cost, all
 * answered with HTTP 400 (403 for introspection) before anything runs; the persisted-operation allow-list;
 * execution ROW_LIMIT errors turned into 400; error masking in production; one hub.audit_log row per operation.
 * The server's context must carry `principal` (from authenticate) and a fresh `audit` (newAuditTrail()).
 */
export function governanceOptions<TContext extends GovernedContext>(
  policy: Policy,
  deps: GovernanceDeps,
): GovernanceOptions<TContext> {
  const log = componentLogger(deps.logger, 'graphql-governance');
  const maskErrors =
    policy.maskErrors === 'auto'
      ? deps.production || process.env.NODE_ENV === 'production'
      : policy.maskErrors;
  const ceiling = ceilingLimits(policy);
  const audit = new AuditWriter(deps.db, log);
  const armor = new ApolloArmor({
    maxDepth: {
      n: ceiling.depth,
      propagateOnRejection: false,
      onReject: [armorReject('DEPTH_LIMIT', 'Query depth is', '')],
    },
    maxAliases: {
      n: ceiling.aliases,
      propagateOnRejection: false,
      onReject: [armorReject('ALIAS_LIMIT', 'Query uses', 'aliases')],
    },
    // Tokens: graphql-js's parser cap (parseOptions) below; cost: graphql-query-complexity per role.
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: maskErrors },
  }).protect();
  const persisted = policy.persistedOperations;

  const governance: ApolloServerPlugin<TContext> = {
    async serverWillStart() {
      return { serverWillStop: () => audit.flush() };
    },
    async contextCreationDidFail({ error }) {
      const code = (error as Partial<GraphQLError>).extensions?.code;
      audit.write({
        principal: { subject: '(unauthenticated)', role: '-', kind: 'anonymous' },
        operationName: null,
        operationType: null,
        queryHash: '',
        variables: null,
        fields: [],
        classifications: [],
        rows: null,
        durationMs: 0,
        outcome: code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' ? 'denied' : 'error',
        errorCodes: typeof code === 'string' ? [code] : [],
        errorMessage: error.message,
      });
    },
    async requestDidStart() {
      const started = performance.now();
      return {
        async didResolveOperation(rc) {
          if (persisted.enabled && !persisted.operations.has(sourceHash(rc.source))) {
            throw operationNotAllowed(rc.operationName ?? null, policy.file);
          }
          const failure = checkOperation({
            schema: rc.schema,
            policy,
            principal: rc.contextValue.principal,
            document: rc.document,
            source: rc.source,
            variables: rc.request.variables,
            operationName: rc.operationName,
          });
          if (failure) throw failure;
        },
        async willSendResponse(rc) {
          const body = rc.response.body;
          if (
            body.kind === 'single' &&
            body.singleResult.errors?.some((e) => e.extensions?.code === 'ROW_LIMIT')
          )
            rc.response.http.status = 400;
          audit.write(auditEntry(rc, performance.now() - started));
        },
      };
    },
  };

  return {
    plugins: [...armor.plugins, governance] as ApolloServerPlugin<TContext>[],
    validationRules: armor.validationRules,
    formatError: (formatted, error) => {
      const code = errorCode(error);
      // Apollo reports every validation error as GRAPHQL_VALIDATION_FAILED; ours keep their own code.
      if (code !== formatted.extensions?.code && code !== 'INTERNAL_SERVER_ERROR')
        formatted = { ...formatted, extensions: { ...formatted.extensions, code } };
      if (!maskErrors || CLIENT_ERROR_CODES.has(code)) return formatted;
      log.error({ err: error }, 'GraphQL error hidden from the client');
      return {
        message: 'Internal server error',
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      };
    },
    introspection: [...policy.roles.values()].some((r) => r.enabled && r.introspection),
    parseOptions: { maxTokens: ceiling.tokens },
    includeStacktraceInErrorResponses: !maskErrors,
    hideSchemaDetailsFromClientErrors: maskErrors,
    // ID-only clients (Apollo persisted queries) get their bodies from the manifest; nothing registers new ones.
    ...(persisted.enabled && {
      persistedQueries: {
        cache: {
          get: async (key: string) => persisted.operations.get(key.replace(/^apq:/, '')),
          set: async () => {},
          delete: async () => true,
        },
      },
    }),
  };
}

function auditEntry<TContext extends GovernedContext>(
  rc: GraphQLRequestContextWillSendResponse<TContext>,
  durationMs: number,
): AuditEntry {
  const ctx = rc.contextValue;
  const requested = rc.document ? fieldsRequested(rc.schema, rc.document) : null;
  const fields = new Set([...(requested?.fields ?? []), ...ctx.audit.fields]);
  const classifications = new Set([...(requested?.classifications ?? []), ...ctx.audit.classifications]);
  const errors = rc.errors ?? [];
  const codes = [...new Set(errors.map(errorCode))];
  const body = rc.response.body;
  const hasData = body.kind === 'single' ? body.singleResult.data != null : true;
  let outcome: AuditEntry['outcome'] = 'ok';
  if (codes.length > 0) {
    if (hasData) outcome = 'partial';
    else if (codes.some((c) => DENIED_CODES.has(c))) outcome = 'denied';
    else if (codes.every((c) => REJECTED_CODES.has(c))) outcome = 'rejected';
    else outcome = 'error';
  }
  return {
    principal: ctx.principal,
    operationName: rc.operationName ?? null,
    operationType: rc.operation?.operation ?? null,
    queryHash: rc.document ? documentHash(rc.document) : rc.source ? sourceHash(rc.source) : '',
    variables: rc.request.variables ?? null,
    fields: [...fields].sort(),
    classifications: [...classifications].sort(),
    rows: ctx.audit.rows,
    durationMs,
    outcome,
    errorCodes: codes,
    errorMessage: errors[0]?.message ?? null,
  };
}

/** The code of our own limit errors inside Apollo's ValidationError wrapper, else the error's code. */
function errorCode(error: unknown): string {
  const e = error as Partial<GraphQLError> | undefined;
  const original = e?.originalError as Partial<GraphQLError> | undefined;
  const own = original?.extensions?.code;
  if (typeof own === 'string' && LIMIT_CODES.has(own)) return own;
  return String(e?.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
}

/** graphql-armor's rejection ("Syntax Error: Query depth limit of 8 exceeded, found 9.") in our words and code. */
function armorReject(
  code: string,
  what: string,
  unit: string,
): (ctx: ValidationContext | null, error: GraphQLError) => void {
  return (ctx, error) => {
    const m = /limit of (\d+) exceeded, found (\d+)/.exec(error.message);
    ctx?.reportError(m ? limitError(code, what, unit, Number(m[2]), Number(m[1]), null) : error);
  };
}

function operationNotAllowed(name: string | null, file: string): GraphQLError {
  return new GraphQLError(
    `Operation ${name ? `'${name}' ` : ''}is not in the persisted operation allow-list (persisted_operations in ${file}); send an operation from the manifest.`,
    { extensions: { code: 'OPERATION_NOT_ALLOWED', http: { status: 400 } } },
  );
}
