import { type DocumentNode, GraphQLError, type GraphQLSchema, getOperationAST, print } from 'graphql';
import type pg from 'pg';
import { componentLogger } from '../../observability/index.ts';
import { AuditWriter, fieldsRequested, sourceHash } from './audit.ts';
import { checkOperation, documentHash } from './operation-checks.ts';
import type { AuditTrail, Policy, Principal } from './types.ts';

export interface SubscriptionCheck {
  schema: GraphQLSchema;
  policy: Policy;
  principal: Principal;
  document: DocumentNode;
  /** The query text as sent (payload.query), for the token count and the persisted-operation allow-list. */
  source?: string;
  variables?: Record<string, unknown>;
  operationName?: string | null;
}

/**
 * The checks the HTTP path runs in Apollo plugins, for graphql-ws onSubscribe (Apollo plugins do not run on
 * WebSocket operations): persisted-operation allow-list, introspection, tokens, depth, aliases, rows, cost.
 * Returns the errors to reject the subscription with; empty = allowed. Authenticate in onConnect with
 * `authenticate(ctx.connectionParams, policy)`.
 */
export function checkSubscription(check: SubscriptionCheck): readonly GraphQLError[] {
  const persisted = check.policy.persistedOperations;
  if (persisted.enabled && !persisted.operations.has(sourceHash(check.source ?? print(check.document))))
    return [
      new GraphQLError(
        `Operation is not in the persisted operation allow-list (persisted_operations in ${check.policy.file}).`,
        { extensions: { code: 'OPERATION_NOT_ALLOWED' } },
      ),
    ];
  const failure = checkOperation(check);
  return failure ? [failure] : [];
}

export interface SubscriptionAudit {
  db: pg.Pool;
  schema: GraphQLSchema;
  principal: Principal;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  /** The operation's context audit trail (rows sent so far). */
  audit: AuditTrail;
  /** performance.now() when the subscription started. */
  startedAt: number;
  /** The errors it was refused or ended with. */
  errors?: readonly GraphQLError[];
}

const writers = new WeakMap<pg.Pool, AuditWriter>();

/**
 * One hub.audit_log row for a graphql-ws operation (Apollo's audit plugin only sees HTTP): call it from
 * onSubscribe when refusing and from onComplete when a subscription ends. Fire and forget, like HTTP audit.
 */
export function auditSubscription(a: SubscriptionAudit): void {
  let writer = writers.get(a.db);
  if (!writer) {
    writer = new AuditWriter(a.db, componentLogger(undefined, 'graphql-governance'));
    writers.set(a.db, writer);
  }
  const requested = fieldsRequested(a.schema, a.document);
  const codes = [
    ...new Set((a.errors ?? []).map((e) => String(e.extensions.code ?? 'INTERNAL_SERVER_ERROR'))),
  ];
  const operation = getOperationAST(a.document, a.operationName ?? undefined);
  writer.write({
    principal: a.principal,
    operationName: a.operationName ?? operation?.name?.value ?? null,
    operationType: operation?.operation ?? null,
    queryHash: documentHash(a.document),
    variables: a.variables ?? null,
    fields: [...new Set([...requested.fields, ...a.audit.fields])].sort(),
    classifications: [...new Set([...requested.classifications, ...a.audit.classifications])].sort(),
    rows: a.audit.rows,
    durationMs: performance.now() - a.startedAt,
    outcome:
      codes.length === 0
        ? 'ok'
        : codes.some((c) => c === 'FORBIDDEN' || c === 'OPERATION_NOT_ALLOWED')
          ? 'denied'
          : 'rejected',
    errorCodes: codes,
    errorMessage: a.errors?.[0]?.message ?? null,
  });
}
