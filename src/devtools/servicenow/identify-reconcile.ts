import { ApiFailure, methodNotSupported } from './api-failure.ts';
import type { ApiRequest, ApiResponse, EmulatorContext } from './api-types.ts';
import { glideDateTime, toGlideString } from './glide-values.ts';
import {
  hardwareRuleEntrySysId,
  type IdentificationAttempt,
  type IreLookup,
  identifyHardware,
} from './ire-identify.ts';
import type { StoredRow } from './record-store.ts';
import { insertRecord, updateRecord, type WriteContext } from './write-record.ts';

/** `POST /api/now/identifyreconcile`, and its `/query` dry run; `/enhanced` and `/queryEnhanced` alike. */
export const ireRoute = /^\/api\/now\/identifyreconcile(?:\/(query|enhanced|queryEnhanced))?\/?$/;

interface IreItem {
  className?: string;
  values?: Record<string, unknown>;
  lookup?: IreLookup[];
  internal_id?: string;
}

interface IreRelation {
  parent?: number;
  child?: number;
  parent_id?: string;
  child_id?: string;
  type?: string;
}

interface IreError {
  error: string;
  message: string;
}

interface ItemResult {
  className: string;
  operation: string;
  sysId: string;
  identifierEntrySysId?: string;
  identificationAttempts?: IdentificationAttempt[];
  inputIndices: number[];
  markers: string[];
  mergedPayloadIds: string[];
  errorCount: number;
  errors?: IreError[];
}

/**
 * Identifies and reconciles each item with the Hardware Rule, then inserts or updates it (nothing is written
 * on a dry run). Per-item failures come back inside the item with HTTP 200; only an unreadable body is a 400.
 */
export function handleIdentifyReconcile(
  ctx: EmulatorContext,
  req: ApiRequest,
  variant: string | undefined,
): ApiResponse {
  if (req.method !== 'POST') throw methodNotSupported(req.method);
  const body = req.body as { items?: unknown; relations?: unknown; referenceItems?: unknown } | undefined;
  if (!Array.isArray(body?.items))
    throw new ApiFailure(400, 'Invalid input', 'Payload must contain an "items" array');
  const dryRun = variant === 'query' || variant === 'queryEnhanced';
  const write: WriteContext = { ...ctx, user: req.user };
  const dataSource = req.url.searchParams.get('sysparm_data_source');
  const sourceError = checkDataSource(ctx, dataSource);
  const items = body.items as IreItem[];
  const seen = new Map<string, number>();
  const results = items.map((item, index) => {
    const result = sourceError
      ? failed(item, index, sourceError)
      : reconcileItem(ctx, write, item, index, dryRun, dataSource ?? '', seen);
    return result;
  });
  const relations = Array.isArray(body.relations) ? (body.relations as IreRelation[]) : [];
  const relationResults = relations.map((relation, index) =>
    reconcileRelation(ctx, write, relation, index, items, results, dryRun),
  );
  if (!dryRun && Array.isArray(body.referenceItems))
    applyReferenceItems(ctx, write, body.referenceItems, items, results);
  return {
    status: 200,
    body: {
      result: {
        items: results,
        additionalCommittedItems: [],
        relations: relationResults,
        additionalCommittedRelations: [],
      },
    },
  };
}

// Error texts from the IRE error-message docs; whether they come back per item is unconfirmed.
function checkDataSource(ctx: EmulatorContext, dataSource: string | null): IreError | undefined {
  const where = 'You need to provide choice value from choice field [discovery_source] in table [cmdb_ci]';
  if (!dataSource)
    return { error: 'INVALID_INPUT_DATA', message: `In payload no data source exist. ${where}` };
  if (!ctx.dataSources.includes(dataSource)) {
    return {
      error: 'INVALID_INPUT_DATA',
      message: `In payload invalid data source [${dataSource}] exist. ${where}`,
    };
  }
  return undefined;
}

function failed(item: IreItem, index: number, error: IreError, operation = 'NO_CHANGE'): ItemResult {
  return {
    className: String(item.className ?? ''),
    operation,
    sysId: 'Unknown',
    inputIndices: [index],
    markers: [],
    mergedPayloadIds: [],
    errorCount: 1,
    errors: [error],
  };
}

function reconcileItem(
  ctx: EmulatorContext,
  write: WriteContext,
  item: IreItem,
  index: number,
  dryRun: boolean,
  dataSource: string,
  seen: Map<string, number>,
): ItemResult {
  const className = String(item.className ?? '');
  if (!ctx.registry.has(className) || !ctx.registry.isKindOf(className, 'cmdb_ci')) {
    return failed(item, index, {
      error: 'INVALID_INPUT_DATA',
      message: `Invalid className [${className}] in payload`,
    });
  }
  if (!ctx.registry.isKindOf(className, 'cmdb_ci_hardware')) {
    return failed(item, index, {
      error: 'IDENTIFICATION_RULE_MISSING',
      message: `No identification rule found for class [${className}]`,
    });
  }
  const values = Object.fromEntries(Object.entries(item.values ?? {}).map(([k, v]) => [k, toGlideString(v)]));
  const lookup = Array.isArray(item.lookup) ? item.lookup : [];
  const found = identifyHardware(ctx.store, values, lookup);
  if (found.missingAttributes) {
    const message = `Identification rule for [${className}] needs one of serial_number+serial_number_type, serial_number, name`;
    return failed(item, index, { error: 'MISSING_MATCHING_ATTRIBUTES', message }, 'INSERT_AS_INCOMPLETE');
  }
  // Two items of one payload that resolve to the same CI (or the same new CI) are duplicates.
  const identity = found.match?.values.sys_id ?? `new:${values.serial_number || values.name}`;
  const first = seen.get(identity);
  if (first !== undefined) {
    return failed(item, index, {
      error: 'DUPLICATE_PAYLOAD_RECORDS',
      message: `Payload items at indices [${first}, ${index}] identify the same CI`,
    });
  }
  seen.set(identity, index);

  const now = glideDateTime(ctx.now());
  const discovery = { discovery_source: dataSource, last_discovered: now };
  const result = (operation: string, sysId: string): ItemResult => ({
    className,
    operation,
    sysId,
    identifierEntrySysId: hardwareRuleEntrySysId,
    identificationAttempts: found.attempts,
    inputIndices: [index],
    markers: [],
    mergedPayloadIds: [],
    errorCount: 0,
  });
  const match = found.match;
  if (!match) {
    if (dryRun) return result('INSERT', 'Unknown');
    const row = insertRecord(write, className, { ...values, ...discovery, first_discovered: now });
    recordSerialLookup(ctx, write, row, lookup);
    // A later item of this payload that matches the new CI is a duplicate too.
    seen.set(row.values.sys_id ?? '', index);
    return result('INSERT', row.values.sys_id ?? '');
  }
  const upgrade = className !== match.className && ctx.registry.isKindOf(className, match.className);
  const targetClass = upgrade ? className : match.className;
  const known = [...ctx.registry.fields(targetClass).keys()];
  const changed = Object.entries(values).some(
    ([k, v]) => known.includes(k) && !k.startsWith('sys_') && match.values[k] !== v,
  );
  const operation = upgrade ? 'UPDATE_WITH_UPGRADE' : changed ? 'UPDATE' : 'NO_CHANGE';
  if (!dryRun) {
    if (upgrade) ctx.store.replace(match, { ...match.values, sys_class_name: className }, className);
    updateRecord(write, targetClass, match, { ...values, ...discovery });
    recordSerialLookup(ctx, write, match, lookup);
  }
  return result(operation, match.values.sys_id ?? '');
}

function recordSerialLookup(
  ctx: EmulatorContext,
  write: WriteContext,
  ci: StoredRow,
  lookup: readonly IreLookup[],
): void {
  for (const entry of lookup) {
    if (entry.className !== 'cmdb_serial_number' || !entry.values) continue;
    const serial = toGlideString(entry.values.serial_number);
    const exists = ctx.store
      .list('cmdb_serial_number')
      .some((s) => s.values.cmdb_ci === ci.values.sys_id && s.values.serial_number === serial);
    if (!exists) insertRecord(write, 'cmdb_serial_number', { ...entry.values, cmdb_ci: ci.values.sys_id });
  }
}

function reconcileRelation(
  ctx: EmulatorContext,
  write: WriteContext,
  relation: IreRelation,
  index: number,
  items: IreItem[],
  results: ItemResult[],
  dryRun: boolean,
): Record<string, unknown> {
  const base = { className: 'cmdb_rel_ci', markers: [], inputIndices: [index], mergedPayloadIds: [] };
  const fail = (message: string) => ({
    ...base,
    operation: 'NO_CHANGE',
    errorCount: 1,
    errors: [{ error: 'INVALID_INPUT_DATA', message }],
  });
  const indexOf = (position: number | undefined, internalId: string | undefined) =>
    position ?? items.findIndex((i) => internalId !== undefined && i.internal_id === internalId);
  const parent = results[indexOf(relation.parent, relation.parent_id)];
  const child = results[indexOf(relation.child, relation.child_id)];
  if (!parent || !child) return fail('Relation names an item that is not in the payload');
  if (parent.errorCount > 0 || child.errorCount > 0) return fail('Relation item failed reconciliation');
  const type = ctx.store.list('cmdb_rel_type').find((t) => t.values.name === relation.type);
  if (!type) return fail(`Invalid relation type [${relation.type}]`);
  const existing = ctx.store
    .list('cmdb_rel_ci')
    .find(
      (r) =>
        r.values.parent === parent.sysId &&
        r.values.child === child.sysId &&
        r.values.type === type.values.sys_id,
    );
  if (existing) return { ...base, operation: 'NO_CHANGE', errorCount: 0 };
  if (!dryRun)
    insertRecord(write, 'cmdb_rel_ci', {
      parent: parent.sysId,
      child: child.sysId,
      type: type.values.sys_id,
    });
  return { ...base, operation: 'INSERT', errorCount: 0 };
}

// referenceItems set a reference column of one item to another item's CI.
function applyReferenceItems(
  ctx: EmulatorContext,
  write: WriteContext,
  referenceItems: unknown[],
  items: IreItem[],
  results: ItemResult[],
): void {
  const resultFor = (internalId: unknown) => results[items.findIndex((i) => i.internal_id === internalId)];
  for (const ref of referenceItems as Array<{
    referenced?: string;
    referencedBy?: string;
    referenceField?: string;
  }>) {
    const referenced = resultFor(ref.referenced);
    const by = resultFor(ref.referencedBy);
    const row = by && ctx.store.get('cmdb_ci', by.sysId);
    if (!referenced || referenced.errorCount > 0 || !row || !ref.referenceField) continue;
    updateRecord(write, row.className, row, { [ref.referenceField]: referenced.sysId });
  }
}
