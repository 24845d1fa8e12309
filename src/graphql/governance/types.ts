// Types shared by the governance modules and the GraphQL server (docs/graphql.md, "Authentication").

/** Who runs an operation; resolvers push `sites` into SQL as the row filter. */
export interface Principal {
  subject: string;
  role: string;
  kind: 'user' | 'service' | 'anonymous';
  /** Site natural keys (dw.dim_asset.site_nk) this principal may see; null = all. */
  sites: string[] | null;
  claims: Record<string, unknown>;
}

/** Collected per operation: resolvers add rows; the field policy adds fields and classifications. */
export interface AuditTrail {
  fields: Set<string>;
  classifications: Set<string>;
  rows: number;
}

/** The part of the server's request context governance reads; the server's context extends it. */
export interface GovernedContext {
  principal: Principal;
  audit: AuditTrail;
}

export const CLASSIFICATIONS = ['PUBLIC', 'OPERATIONAL', 'CONFIDENTIAL', 'PII'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** allow: the value as stored; mask: a masked value (PII: "***" + last 2 characters, CONFIDENTIAL: a hash);
 *  hide: the value is returned as null; deny: the field is refused with FORBIDDEN. */
export type FieldAccess = 'allow' | 'mask' | 'hide' | 'deny';

export interface RoleLimits {
  depth: number;
  aliases: number;
  tokens: number;
  cost: number;
  maxRows: number;
}

export interface RolePolicy {
  name: string;
  enabled: boolean;
  description?: string;
  introspection: boolean;
  /** 'claim': the sites come from the JWT claim or the API key; 'all': no row filter. */
  rowFilter: 'claim' | 'all';
  classification: Record<Classification, FieldAccess>;
  limits: RoleLimits;
}

export interface JwtPolicy {
  /** Name of the environment variable holding the HS256 shared secret. */
  secretEnv?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  roleClaim: string;
  sitesClaim: string;
  subjectClaim: string;
}

export interface ApiKeyPolicy {
  name: string;
  /** Hex sha256 of the key; the key itself is never stored. */
  sha256: string;
  role: string;
  sites: string[] | null;
}

export interface Policy {
  file: string;
  auth: { jwt?: JwtPolicy; apiKeys: ApiKeyPolicy[]; apiKeyHeader: string };
  anonymousRole: string;
  roles: Map<string, RolePolicy>;
  /** Size the cost estimate assumes for a list field without a first/limit argument. */
  assumedListSize: number;
  /** The allow-list: sha256 of each operation body → body (Apollo persisted query manifest). */
  persistedOperations: { enabled: boolean; manifest?: string; operations: Map<string, string> };
  /** Hide internal error text from clients; 'auto': when NODE_ENV=production (or deps.production). */
  maskErrors: 'auto' | boolean;
  /** Environment variable with the HMAC secret for CONFIDENTIAL hashes. */
  hashSecretEnv?: string;
}
