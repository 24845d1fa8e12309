import type pg from 'pg';
import type { AuditTrail, Principal } from './governance/index.ts';
import type { IncidentSource } from './incidents.ts';
import type { Loaders } from './loaders.ts';

export type { AuditTrail, Principal };

/**
 * What every resolver gets, new per request (per subscription operation over graphql-ws). Resolvers push
 * `principal.sites` into SQL as the row filter and add the rows they return to `audit.rows`.
 */
export interface HubContext {
  principal: Principal;
  /** The warehouse: the hub's own database. */
  db: pg.Pool;
  loaders: Loaders;
  audit: AuditTrail;
  /** Live ServiceNow incidents, cached briefly across requests. */
  servicenow: IncidentSource;
}
