import type { ServiceNowFaults } from './faults.ts';
import type { RateLimitRule } from './rate-limiter.ts';
import type { TableDef } from './table-schema.ts';

/** A user of the emulated instance. Roles drive the ACLs (docs/servicenow-emulator.md, "Users, roles and ACLs"). */
export interface EmulatorUser {
  username: string;
  password: string;
  /** Granted roles; `admin` passes every ACL. @defaultValue ['admin'] */
  roles?: string[];
}

/** Options of `startServiceNowEmulator`; every one has a default that suits local runs and tests. */
export interface ServiceNowEmulatorOptions {
  /**
   * TCP port; 0 picks a free one (read it back from `port`).
   * @defaultValue 0
   */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /**
   * The main API user: Basic auth, the OAuth password grant, the client-credentials grant's application user and
   * `credentials`. Without `roles` it is an admin.
   * @defaultValue { username: 'admin', password: 'admin', roles: ['admin'] }
   */
  user?: EmulatorUser;
  /**
   * More users, each with its own roles (an `itil`-only integration user, an `evt_mgmt_integration` one…).
   * They authenticate like `user`, by Basic auth or the OAuth password grant.
   */
  users?: EmulatorUser[];
  /**
   * The OAuth client registered for `/oauth_token.do`.
   * @defaultValue { clientId: 'hub', clientSecret: 'hub-secret' }
   */
  oauthClient?: { clientId: string; clientSecret: string };
  /**
   * Whether the client_credentials grant is enabled (`glide.oauth.inbound.client.credential.grant_type.enabled`).
   * Tokens of that grant act as `user`.
   * @defaultValue true
   */
  clientCredentialsGrant?: boolean;
  /** @defaultValue 1800 (the docs' default lifespan) */
  accessTokenSeconds?: number;
  /** @defaultValue 8640000 (100 days) */
  refreshTokenSeconds?: number;
  /** A per-user rate-limit rule over all /api/ requests; none when absent. */
  rateLimit?: RateLimitRule;
  /** Faults to inject from the start; change them later with `setFaults`. */
  faults?: ServiceNowFaults;
  /** Seed of the fault generator, for reproducible runs. Random when absent. */
  seed?: number;
  /**
   * Refuse Resolved/Closed incidents without close_code and close_notes (403 data policy).
   * @defaultValue true
   */
  resolutionDataPolicy?: boolean;
  /**
   * `glide.invalid_query.returns_no_rows`: an invalid query term returns no rows instead of being ignored.
   * @defaultValue false
   */
  invalidQueryReturnsNoRows?: boolean;
  /**
   * Compare strings in encoded queries case-sensitively. Off by default: an instance's database compares `=`,
   * `LIKE`, `STARTSWITH`, `IN`… without regard to case, so `correlation_id=abc` also finds `ABC`.
   * @defaultValue false
   */
  caseSensitiveQueries?: boolean;
  /** incident.close_code choices, published in sys_choice. @defaultValue a current release's codes */
  closeCodes?: string[];
  /** cmdb_ci.discovery_source choices; IRE's `sysparm_data_source` must be one. @defaultValue includes 'IoTHub' */
  dataSources?: string[];
  /** More tables or CI classes (custom `u_` tables, other CMDB classes); they may extend the built-in ones. */
  extraTables?: TableDef[];
  /** `glide.rest.max_content_length` in bytes. @defaultValue 10485760 */
  maxContentLength?: number;
  /** Clock, epoch ms; tests pass a fake one to step token expiry and rate windows. @defaultValue Date.now */
  now?: () => number;
}
