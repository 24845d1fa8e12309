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
import { inTransaction } from '../../db/index.ts';
import type { Logger } from '../../observability/index.ts';
import { maskPii } from './masking.ts';
import { perDocument } from './operation-checks.ts';
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

/** Most rows one INSERT carries (14 parameters each, far below the protocol's 65,535). */
const MAX_BATCH = 100;

/**
 * Writes audit rows after the response has gone, without holding it up, as a group commit: a row waits
 * `lingerMs` (5 ms) for others, and rows that arrive while a write runs wait for it; then they go together, up
 * to MAX_BATCH in one multi-row INSERT (under load, one transaction for many requests instead of one each). The commit does not wait for the WAL flush (synchronous_commit off, for
 * this transaction only), so under load audit writes no longer queue behind each other's flushes
 * (docs/graphql.md, "GraphQL benchmark"); a row is lost only if PostgreSQL itself crashes within a moment of
 * the commit. A failure is logged, never returned to the client. `flush` waits until every row written so far
 * is in the table (server stop).
 */
export class AuditWriter {
  private queue: AuditEntry[] = [];
  private running: Promise<void> | null = null;
  private lingering: { timer: NodeJS.Timeout; start: () => void } | null = null;
  private readonly db: pg.Pool;
  private readonly log: Logger;
  private readonly lingerMs: number;

  constructor(db: pg.Pool, log: Logger, options: { lingerMs?: number } = {}) {
    this.db = db;
    this.log = log;
    this.lingerMs = options.lingerMs ?? 5;
  }

  write(entry: AuditEntry): void {
    this.queue.push(entry);
    if (this.running || this.lingering) return;
    const start = () => {
      clearTimeout(timer);
      this.lingering = null;
      this.running ??= this.drain();
    };
    const timer = setTimeout(start, this.lingerMs);
    this.lingering = { timer, start };
  }

  async flush(): Promise<void> {
    this.lingering?.start();
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        // If a batch fails, one row by one, so that a row the table refuses does not take the others along.
        const ok = await this.insert(batch).then(
          () => true,
          () => false,
        );
        if (!ok)
          for (const entry of batch)
            await this.insert([entry]).catch((err: Error) =>
              this.log.error(
                { err, who: entry.principal.subject, queryHash: entry.queryHash },
                'audit log write failed',
              ),
            );
      }
    } finally {
      this.running = null;
    }
  }

  private async insert(batch: AuditEntry[]): Promise<void> {
    const params: unknown[] = [];
    const tuples = batch.map((entry) => {
      const first = params.length;
      params.push(
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
      );
      return `(${Array.from({ length: 14 }, (_, i) => `$${first + i + 1}`).join(', ')})`;
    });
    // inTransaction keeps an 'error' listener on the connection while it is checked out, so a server restart
    // fails this write instead of ending the process.
    await inTransaction(
      this.db,
      (client) =>
        client.query(
          `INSERT INTO hub.audit_log (who, role, principal_kind, operation, operation_type, query_hash, variables,
             fields_touched, classifications, row_count, duration_ms, outcome, error_codes, error_message)
           VALUES ${tuples.join(', ')}`,
          params,
        ),
      'BEGIN; SET LOCAL synchronous_commit = off',
    );
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
): { fields: ReadonlySet<string>; classifications: ReadonlySet<string> } {
  return perDocument(schema, document, 'fieldsRequested', () => collectFields(schema, document));
}

function collectFields(
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
