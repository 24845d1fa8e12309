import { type ActingUser, insertRecord, type WriteContext } from './write-record.ts';

/** The admin user's sys_id on every instance; other users get a fresh one. */
const adminSysId = '6816f79cc0a8016401c5a33be04be441';

/**
 * Base data an instance ships with: the API users (by name, in order), a sys_choice row for every choice column (so clients can
 * discover close codes) and the CI relationship types IRE relations name.
 */
export function seedBaseData(
  ctx: WriteContext,
  userNames: readonly string[],
  relationTypes: readonly string[],
): Map<string, ActingUser> {
  const seeding: WriteContext = { ...ctx, allowSystemFields: true };
  const users = new Map<string, ActingUser>();
  for (const userName of userNames) {
    const isAdmin = userName === 'admin';
    const user = insertRecord(seeding, 'sys_user', {
      ...(isAdmin ? { sys_id: adminSysId } : {}),
      user_name: userName,
      name: isAdmin ? 'System Administrator' : userName,
      first_name: isAdmin ? 'System' : userName,
      last_name: isAdmin ? 'Administrator' : '',
    });
    users.set(userName, { userName, sysId: user.values.sys_id ?? '' });
  }
  for (const table of ctx.registry.names()) {
    for (const [element, def] of Object.entries(ctx.registry.get(table)?.fields ?? {})) {
      for (const [sequence, [value, label]] of Object.entries(def.choices ?? {}).entries()) {
        insertRecord(seeding, 'sys_choice', { name: table, element, value, label, sequence });
      }
    }
  }
  for (const name of relationTypes) {
    const [parent_descriptor = '', child_descriptor = ''] = name.split('::');
    insertRecord(seeding, 'cmdb_rel_type', { name, parent_descriptor, child_descriptor });
  }
  return users;
}
