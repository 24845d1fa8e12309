import { createHash } from 'node:crypto';
import { getDirective } from '@graphql-tools/utils';
import {
  type DocumentNode,
  type GraphQLSchema,
  getNamedType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type pg from 'pg';
import type { Logger } from '../../observability/index.ts';
import { maskPii } from './masking.ts';
import type { AuditTrail, Principal } from './types.ts';

/** One hub.audit_log row (migrations/20261201160000_graphql_audit.ts). */
export interface AuditEntry {
  principal: Pick<Principal, 'subject' | 'role' | 'kind'>;
  operationName: string | null;
  operationType: string | null;
  queryHash: string;
  variables: Record<string, unknown> | null;
  fields: string[];
  classifications: string[];
  rows: number | null;
  durationMs: number;
  outcome: 'ok' | 'partial' | 'denied' | 'rejected' | 'error';
  errorCodes: string[];
  errorMessage: string | null;
}

export function newAuditTrail(): AuditTrail {
  return { fields: new Set(), classifications: new Set(), rows: 0 };
}

/**
 * Writes audit rows after the response has gone, without holding it up: each insert runs on its own and a
 * failure is logged, never returned to the client. `flush` waits for the inserts still running (server stop).
 */
export class AuditWriter {
  private readonly pending = new Set<Promise<void>>();
  private readonly db: pg.Pool;
  private readonly log: Logger;

  constructor(db: pg.Pool, log: Logger) {
    this.db = db;
    this.log = log;
  }

  write(entry: AuditEntry): void {
    const insert = this.db
      .query(
        `INSERT INTO hub.audit_log (who, role, principal_kind, operation, operation_type, query_hash, variables,
           fields_touched, classifications, row_count, duration_ms, outcome, error_codes, error_message)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          entry.principal.subject,
          entry.principal.role,
          entry.principal.kind,
          entry.operationName,
          entry.operationType,
          entry.queryHash,
          entry.variables === null ? null : JSON.stringify(maskVariables(entry.variables)),
          entry.fields,
          entry.classifications,
          entry.rows,
          entry.durationMs,
          entry.outcome,
          entry.errorCodes,
          entry.errorMessage?.slice(0, 2000) ?? null,
        ],
      )
      .then(
        () => {},
        (err: Error) =>
          this.log.error(
            { err, who: entry.principal.subject, queryHash: entry.queryHash },
            'audit log write failed',
          ),
      );
    this.pending.add(insert);
    void insert.finally(() => this.pending.delete(insert));
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

/** Variables may carry personal data: strings keep only their last 2 characters (as PII masking does). */
function maskVariables(value: unknown): unknown {
  if (typeof value === 'string') return maskPii(value);
  if (Array.isArray(value)) return value.map(maskVariables);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskVariables(v)]));
  return value;
}

/** Every field the document asks for (`Type.field`) and the classes of those that are @classified. */
export function fieldsRequested(
  schema: GraphQLSchema,
  document: DocumentNode,
): { fields: Set<string>; classifications: Set<string> } {
  const fields = new Set<string>();
  const classifications = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const def = typeInfo.getFieldDef();
        if (!parent || !def || node.name.value.startsWith('__')) return;
        fields.add(`${getNamedType(parent).name}.${def.name}`);
        const level = getDirective(schema, def, 'classified')?.[0]?.level;
        if (typeof level === 'string') classifications.add(level);
      },
    }),
  );
  return { fields, classifications };
}

export function sourceHash(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}
