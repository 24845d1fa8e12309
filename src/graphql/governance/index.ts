// The governance face of the GraphQL stage (docs/graphql.md, "Authentication" … "Audit"): policy from
// schema/policy.yaml, authentication (JWT, API keys), field classification and masking, limits, introspection
// per role, persisted operations, production error masking and the audit log. Other stages import only from here.

export { newAuditTrail } from './audit.ts';
export { type ApiKeyCreated, authenticate, createApiKey, hashApiKey } from './authenticate.ts';
export { applyFieldPolicy } from './field-policy.ts';
export { jwtSecret, localSecretFile } from './local-secret.ts';
export { maskConfidential, maskPii } from './masking.ts';
export { checkOperation, type OperationCheck } from './operation-checks.ts';
export { type GovernanceDeps, type GovernanceOptions, governanceOptions } from './options.ts';
export { DEFAULT_POLICY_FILE, loadPolicy, parsePolicy } from './policy.ts';
export { siteCondition } from './row-filter.ts';
export {
  auditSubscription,
  checkSubscription,
  type SubscriptionAudit,
  type SubscriptionCheck,
} from './subscription.ts';
export type {
  AuditTrail,
  Classification,
  FieldAccess,
  GovernedContext,
  Policy,
  Principal,
  RoleLimits,
  RolePolicy,
} from './types.ts';
