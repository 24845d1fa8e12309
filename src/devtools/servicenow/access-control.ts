import { ApiFailure } from './api-failure.ts';
import type { TableRegistry } from './table-registry.ts';

export type AclOperation = 'read' | 'create' | 'write' | 'delete';

/**
 * One access rule: who may do `operation` on `table` (and its child classes, unless a child has its own rule).
 * `roles` lists alternatives; an empty list means any authenticated user. `admin` passes every rule.
 */
export interface AclRule {
  table: string;
  operation: AclOperation;
  roles: readonly string[];
}

/** A rule on the value a write sets: only these roles may set `field` to one of `values`. */
export interface AclValueRule {
  table: string;
  field: string;
  values: readonly string[];
  roles: readonly string[];
}

const any: readonly string[] = [];
const itil = ['itil'];
const cmdbWriters = ['itil', 'asset'];

/**
 * The base ACLs the hub's flows meet (docs/servicenow-emulator.md, "Users, roles and ACLs"). Tables without a
 * rule on their chain are admin-only, as the instance denies by default.
 */
export const defaultAcls: readonly AclRule[] = [
  ...(['read', 'create', 'write'] as const).map((operation) => ({ table: 'task', operation, roles: itil })),
  { table: 'task', operation: 'delete', roles: ['itil_admin'] },
  { table: 'sys_journal_field', operation: 'read', roles: ['admin'] },
  ...['sys_user', 'sys_user_group', 'sys_choice', 'core_company', 'cmn_location', 'cmdb_rel_type'].map(
    (table) => ({ table, operation: 'read' as const, roles: any }),
  ),
  ...['cmdb_ci', 'cmdb_rel_ci', 'cmdb_serial_number'].flatMap((table) => [
    { table, operation: 'read' as const, roles: [...cmdbWriters, 'cmdb_read'] },
    { table, operation: 'create' as const, roles: cmdbWriters },
    { table, operation: 'write' as const, roles: cmdbWriters },
  ]),
  { table: 'em_event', operation: 'read', roles: ['evt_mgmt_user', 'evt_mgmt_integration'] },
  { table: 'em_event', operation: 'create', roles: ['evt_mgmt_integration'] },
  { table: 'em_alert', operation: 'read', roles: ['evt_mgmt_user', 'itil'] },
];

/** Closing an incident (state 7) is kept from `itil`; Resolved (6) is allowed. */
export const defaultValueAcls: readonly AclValueRule[] = [
  { table: 'incident', field: 'state', values: ['7'], roles: ['itil_admin'] },
];

/** Roles that contain others, as the base system's role hierarchy does for the ones used here. */
const containedRoles: Readonly<Record<string, readonly string[]>> = {
  itil_admin: ['itil'],
  evt_mgmt_admin: ['evt_mgmt_user', 'evt_mgmt_integration'],
};

/** A user's effective roles: the granted ones plus those they contain. */
export function effectiveRoles(granted: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  const add = (role: string) => {
    if (out.has(role)) return;
    out.add(role);
    for (const inner of containedRoles[role] ?? []) add(inner);
  };
  for (const role of granted) add(role);
  return out;
}

export interface AccessControl {
  /** Throws the 403 the Table API answers when `roles` may not do `operation` on `table`. */
  checkTable(roles: ReadonlySet<string>, table: string, operation: AclOperation): void;
  /**
   * Throws the 403 of a refused write when a value rule keeps `roles` from moving a field to a value. Runs on
   * the row as it will be stored (after business rules), so `incident_state=7` or a display value counts too.
   */
  checkValues(
    roles: ReadonlySet<string>,
    className: string,
    next: Readonly<Record<string, string>>,
    previous: Readonly<Record<string, string>> | undefined,
  ): void;
  /** Whether `roles` holds one of `required` (or admin); for API-level checks. */
  hasAny(roles: ReadonlySet<string>, required: readonly string[]): boolean;
}

export function createAccessControl(
  registry: TableRegistry,
  rules: readonly AclRule[] = defaultAcls,
  valueRules: readonly AclValueRule[] = defaultValueAcls,
): AccessControl {
  const hasAny = (roles: ReadonlySet<string>, required: readonly string[]) =>
    roles.has('admin') || required.length === 0 || required.some((r) => roles.has(r));
  // The most specific rule wins: the table's own, else the nearest ancestor's.
  const ruleFor = (table: string, operation: AclOperation): AclRule | undefined => {
    for (let t: string | undefined = table; t; t = registry.get(t)?.extends) {
      const rule = rules.find((r) => r.table === t && r.operation === operation);
      if (rule) return rule;
    }
    return undefined;
  };
  return {
    hasAny,
    checkTable(roles, table, operation) {
      if (roles.has('admin')) return;
      const rule = ruleFor(table, operation);
      if (!rule || !hasAny(roles, rule.roles)) throw aclFailure(operation);
    },
    checkValues(roles, className, next, previous) {
      if (roles.has('admin')) return;
      for (const rule of valueRules) {
        if (!registry.isKindOf(className, rule.table)) continue;
        const value = next[rule.field] ?? '';
        if (value === previous?.[rule.field] || !rule.values.includes(value)) continue;
        if (!hasAny(roles, rule.roles)) throw aclFailure(previous ? 'write' : 'create');
      }
    },
  };
}

const verbs: Record<AclOperation, string> = {
  read: 'Read',
  create: 'Insert',
  write: 'Update',
  delete: 'Delete',
};

/**
 * The 403 of a failed ACL. The "Insert/Update … Failed due to security constraints" detail is what integrators
 * report; the read and delete wordings follow it *(unconfirmed)*.
 */
export function aclFailure(operation: AclOperation): ApiFailure {
  return new ApiFailure(
    403,
    'Operation Failed',
    `ACL Exception ${verbs[operation]} Failed due to security constraints`,
  );
}

/** The 403 of an API whose REST ACL the user fails (Event Management, IRE), as integrators report it. */
export function apiAclFailure(): ApiFailure {
  return new ApiFailure(403, 'User Not Authorized', 'Failed API level ACL Validation');
}
