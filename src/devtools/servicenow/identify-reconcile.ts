import { apiAclFailure } from './access-control.ts';
import { ApiFailure, methodNotSupported } from './api-failure.ts';
import type { ApiRequest, ApiResponse, EmulatorContext } from './api-types.ts';
import { glideDateTime, toGlideString } from './glide-values.ts';
import {
  hardwareRuleEntrySysId,
  type Identification,
  type IdentificationAttempt,
  type IreLookup,
  identifyHardware,
} from './ire-identify.ts';
import type { StoredRow } from './record-store.ts';
import { isSystemField } from './table-schema.ts';
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

/** A validated item: what will be written when the whole payload is valid. */
interface PlannedItem {
  index: number;
  className: string;
  values: Record<string, string>;
  lookup: IreLookup[];
  found: Identification;
  result: ItemResult;
}

interface PlannedRelation {
  parent: number;
  child: number;
  typeSysId: string;
  result: Record<string, unknown>;
}

/**
 * Identifies and reconciles a payload with the Hardware Rule. Every item, relation and reference item is
 * checked before anything is written: one error anywhere and nothing is committed; the failing parts carry their
 * errors and the rest are ABANDONED, all with HTTP 200 (docs/servicenow-emulator.md, "IRE validation"). A valid payload is
 * then inserted or updated (nothing is written on a dry run). Only an unreadable body is a 400.
 */
export function handleIdentifyReconcile(
  ctx: EmulatorContext,
  req: ApiRequest,
  variant: string | undefined,
): ApiResponse {
  if (req.method !== 'POST') throw methodNotSupported(req.method);
  // "Users must have the itil or asset role to use this API."
  if (!ctx.access.hasAny(req.user.roles ?? new Set(), ['itil', 'asset'])) throw apiAclFailure();
  const body = req.body as { items?: unknown; relations?: unknown; referenceItems?: unknown } | undefined;
  if (!Array.isArray(body?.items))
    throw new ApiFailure(400, 'Invalid input', 'Payload must contain an "items" array');
  const dryRun = variant === 'query' || variant === 'queryEnhanced';
  const dataSource = req.url.searchParams.get('sysparm_data_source') ?? '';
  const items = body.items as unknown[];
  const planned = planItems(ctx, items, dataSource);
  const relations = Array.isArray(body.relations) ? (body.relations as unknown[]) : [];
  const plannedRelations = relations.map((relation, index) =>
    planRelation(ctx, relation, index, items, planned),
  );
  const referenceItems = Array.isArray(body.referenceItems) ? (body.referenceItems as unknown[]) : [];
  const references = planReferenceItems(ctx, referenceItems, items, planned);

  const results = planned.map((p) => p.result);
  const relationResults = plannedRelations.map((r) => r.result);
  const failedItem = results.findIndex((r) => r.errorCount > 0);
  const failed = failedItem >= 0 || relationResults.some((r) => r.errorCount !== 0);
  if (failed) abandonRest(results, relationResults, dataSource);
  else if (!dryRun) {
    const write: WriteContext = { ...ctx, user: req.user };
    for (const item of planned) commitItem(ctx, write, item, dataSource);
    for (const relation of plannedRelations) commitRelation(ctx, write, relation, results);
    for (const ref of references) {
      const row = ctx.store.get('cmdb_ci', results[ref.by]?.sysId ?? '');
      if (row) updateRecord(write, row.className, row, { [ref.field]: results[ref.referenced]?.sysId ?? '' });
    }
  }
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
function checkDataSource(ctx: EmulatorContext, dataSource: string): IreError | undefined {
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

function failedResult(
  className: unknown,
  index: number,
  error: IreError,
  operation = 'NO_CHANGE',
): ItemResult {
  return {
    className: typeof className === 'string' ? className : '',
    operation,
    sysId: 'Unknown',
    inputIndices: [index],
    markers: [],
    mergedPayloadIds: [],
    errorCount: 1,
    errors: [error],
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates and identifies every item without writing; duplicates are found across the whole payload. */
function planItems(ctx: EmulatorContext, items: readonly unknown[], dataSource: string): PlannedItem[] {
  const sourceError = checkDataSource(ctx, dataSource);
  const byCriterion = new Map<string, number>();
  const byMatch = new Map<string, number>();
  return items.map((raw, index): PlannedItem => {
    const item = isObject(raw) ? (raw as IreItem) : {};
    const plan = (result: ItemResult, found: Identification = noIdentification): PlannedItem => ({
      index,
      className: result.className,
      values: {},
      lookup: [],
      found,
      result,
    });
    if (sourceError) return plan(failedResult(item.className, index, sourceError));
    const shapeError = checkItemShape(raw, index);
    if (shapeError) return plan(failedResult(item.className, index, shapeError));
    const className = String(item.className);
    if (!ctx.registry.has(className) || !ctx.registry.isKindOf(className, 'cmdb_ci')) {
      return plan(
        failedResult(className, index, {
          error: 'INVALID_INPUT_DATA',
          message: `Invalid className [${className}] in payload`,
        }),
      );
    }
    if (!ctx.registry.isKindOf(className, 'cmdb_ci_hardware')) {
      return plan(
        failedResult(className, index, {
          error: 'IDENTIFICATION_RULE_MISSING',
          message: `Identity Rule Missing for table [${className}]`,
        }),
      );
    }
    const values = Object.fromEntries(
      Object.entries(item.values ?? {}).map(([k, v]) => [k, toGlideString(v)]),
    );
    const referenceError = checkReferences(ctx, className, values);
    if (referenceError) return plan(failedResult(className, index, referenceError));
    const lookup = item.lookup ?? [];
    const lookupError = checkLookupClasses(lookup);
    if (lookupError) return plan(failedResult(className, index, lookupError));
    const found = identifyHardware(ctx.store, values, lookup);
    if (found.missingAttributes) {
      const message = `In payload missing minimum set of input values for criterion (matching) attributes from identify rule for table [cmdb_ci_hardware]. Add these input values in payload item '${JSON.stringify(raw)}'`;
      return plan(
        failedResult(
          className,
          index,
          { error: 'MISSING_MATCHING_ATTRIBUTES', message },
          'INSERT_AS_INCOMPLETE',
        ),
        found,
      );
    }
    // Two items with the same values for the identifier entry that identifies them are duplicates, and so are
    // two items that identify the same stored CI through different entries.
    const criterion = criterionOf(values, lookup);
    const duplicateOf =
      byCriterion.get(criterion.key) ??
      (found.match ? byMatch.get(found.match.values.sys_id ?? '') : undefined);
    if (duplicateOf !== undefined) {
      return plan(
        failedResult(className, index, {
          error: 'DUPLICATE_PAYLOAD_RECORDS',
          message: `Found duplicate items in the payload (index ${duplicateOf} and ${index}), using className [${className}] and fields [${criterion.fields.join(', ')}]. Remove duplicate items from payload`,
        }),
        found,
      );
    }
    byCriterion.set(criterion.key, index);
    if (found.match) byMatch.set(found.match.values.sys_id ?? '', index);
    return {
      index,
      className,
      values,
      lookup,
      found,
      result: identified(ctx, className, values, found, index),
    };
  });
}

const noIdentification: Identification = { attempts: [], match: undefined, missingAttributes: false };

// A payload item must be an object; `values` an object and `lookup` an array of objects when present.
function checkItemShape(raw: unknown, index: number): IreError | undefined {
  const item = isObject(raw) ? raw : undefined;
  const valid =
    item !== undefined &&
    typeof item.className === 'string' &&
    (item.values === undefined || isObject(item.values)) &&
    (item.lookup === undefined || (Array.isArray(item.lookup) && item.lookup.every(isObject)));
  if (valid) return undefined;
  return {
    error: 'INVALID_INPUT_DATA',
    message: `Payload item at index [${index}] is malformed: it must be an object with a className string, a values object and an optional lookup array`,
  };
}

// A reference column must name an existing record of the referenced table.
function checkReferences(
  ctx: EmulatorContext,
  className: string,
  values: Readonly<Record<string, string>>,
): IreError | undefined {
  for (const [name, value] of Object.entries(values)) {
    const def = ctx.registry.field(className, name);
    if (def?.type !== 'reference' || !def.reference || value === '' || isSystemField(name)) continue;
    const target = ctx.store.get(def.reference, value);
    if (!target || (target.values.duplicate_of ?? '') !== '') {
      return {
        error: 'INVALID_INPUT_DATA',
        message: `Found invalid sys_id in payload. No record with sys_id [${value}] exist in table [${def.reference}] or is a duplicate record with [duplicate_of] field set to a main CI`,
      };
    }
  }
  return undefined;
}

// The Hardware Rule has one lookup entry, on cmdb_serial_number; a lookup of another class has no rule.
function checkLookupClasses(lookup: readonly IreLookup[]): IreError | undefined {
  const other = lookup.find((l) => l.className !== 'cmdb_serial_number');
  if (!other) return undefined;
  return {
    error: 'IDENTIFICATION_RULE_FOR_LOOKUP_MISSING',
    message: `Identity Rule for table [cmdb_ci_hardware] missing Lookup Rule for class [${String(other.className ?? '')}]`,
  };
}

/** The Hardware Rule entry that identifies an item (the first whose attributes it has) and its values. */
function criterionOf(
  values: Readonly<Record<string, string>>,
  lookup: readonly IreLookup[],
): { key: string; fields: string[] } {
  const serial = lookup.find((l) => l.className === 'cmdb_serial_number')?.values ?? {};
  const serialNumber = toGlideString(serial.serial_number);
  const serialType = toGlideString(serial.serial_number_type);
  if (serialNumber && serialType)
    return {
      key: `lookup:${serialNumber}\u0000${serialType}`,
      fields: ['serial_number', 'serial_number_type'],
    };
  if (values.serial_number) return { key: `serial:${values.serial_number}`, fields: ['serial_number'] };
  return { key: `name:${values.name ?? ''}`, fields: ['name'] };
}

function identified(
  ctx: EmulatorContext,
  className: string,
  values: Readonly<Record<string, string>>,
  found: Identification,
  index: number,
): ItemResult {
  const match = found.match;
  let operation = 'INSERT';
  if (match) {
    const upgrade = className !== match.className && ctx.registry.isKindOf(className, match.className);
    const targetClass = upgrade ? className : match.className;
    const known = ctx.registry.fields(targetClass);
    const changed = Object.entries(values).some(
      ([k, v]) => known.has(k) && !k.startsWith('sys_') && match.values[k] !== v,
    );
    operation = upgrade ? 'UPDATE_WITH_UPGRADE' : changed ? 'UPDATE' : 'NO_CHANGE';
  }
  return {
    className,
    operation,
    sysId: match?.values.sys_id ?? 'Unknown',
    identifierEntrySysId: hardwareRuleEntrySysId,
    identificationAttempts: found.attempts,
    inputIndices: [index],
    markers: [],
    mergedPayloadIds: [],
    errorCount: 0,
  };
}

function commitItem(ctx: EmulatorContext, write: WriteContext, item: PlannedItem, dataSource: string): void {
  const now = glideDateTime(ctx.now());
  const discovery = { discovery_source: dataSource, last_discovered: now };
  const match = item.found.match;
  if (!match) {
    const row = insertRecord(write, item.className, { ...item.values, ...discovery, first_discovered: now });
    recordSerialLookup(ctx, write, row, item.lookup);
    item.result.sysId = row.values.sys_id ?? '';
    return;
  }
  const upgrade = item.result.operation === 'UPDATE_WITH_UPGRADE';
  if (upgrade) ctx.store.replace(match, { ...match.values, sys_class_name: item.className }, item.className);
  updateRecord(write, upgrade ? item.className : match.className, match, { ...item.values, ...discovery });
  recordSerialLookup(ctx, write, match, item.lookup);
}

/** When anything failed: every part without its own error is abandoned, and nothing is written. */
function abandonRest(results: ItemResult[], relations: Record<string, unknown>[], dataSource: string): void {
  const abandoned: IreError = {
    error: 'ABANDONED',
    message: `Detected error while processing payload from ${dataSource}`,
  };
  for (const [index, result] of results.entries()) {
    if (result.errorCount > 0) continue;
    results[index] = {
      ...failedResult(result.className, index, abandoned),
      identificationAttempts: result.identificationAttempts,
    };
  }
  for (const relation of relations) {
    if (relation.errorCount !== 0) continue;
    Object.assign(relation, { operation: 'NO_CHANGE', errorCount: 1, errors: [abandoned] });
  }
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

/** Checks one relation: item indexes (or internal ids) inside the payload, a known type, items without errors. */
function planRelation(
  ctx: EmulatorContext,
  raw: unknown,
  index: number,
  items: readonly unknown[],
  planned: readonly PlannedItem[],
): PlannedRelation {
  const relation = (isObject(raw) ? raw : {}) as IreRelation;
  const base = { className: 'cmdb_rel_ci', markers: [], inputIndices: [index], mergedPayloadIds: [] };
  const fail = (error: string, message: string): PlannedRelation => ({
    parent: -1,
    child: -1,
    typeSysId: '',
    result: { ...base, operation: 'NO_CHANGE', errorCount: 1, errors: [{ error, message }] },
  });
  const position = (at: unknown, internalId: unknown): number => {
    if (at !== undefined)
      return Number.isInteger(at) && (at as number) >= 0 && (at as number) < items.length
        ? (at as number)
        : -1;
    if (internalId === undefined) return -1;
    return items.findIndex((i) => isObject(i) && i.internal_id === internalId);
  };
  const parent = position(relation.parent, relation.parent_id);
  const child = position(relation.child, relation.child_id);
  const shown = JSON.stringify(raw);
  if (parent < 0)
    return fail(
      'INVALID_INPUT_DATA',
      `Payload relations '${shown}' has invalid parent record index: [${String(relation.parent ?? relation.parent_id)}]`,
    );
  if (child < 0)
    return fail(
      'INVALID_INPUT_DATA',
      `Payload relations '${shown}' has invalid child record index: [${String(relation.child ?? relation.child_id)}]`,
    );
  const type = ctx.store.list('cmdb_rel_type').find((t) => t.values.name === relation.type);
  if (!type) {
    const name = String(relation.type ?? '');
    return fail(
      'INVALID_INPUT_DATA',
      `No such relationship with name [${name}] exist in table [cmdb_rel_type]. If out-of-box relationship for [${name}] has been removed or renamed, it should be restored`,
    );
  }
  const badItem = [parent, child].find((i) => (planned[i]?.result.errorCount ?? 1) > 0);
  if (badItem !== undefined)
    return fail(
      'ABANDONED',
      `While processing relations encountered errors in payload item: ${JSON.stringify(items[badItem])}`,
    );
  const existing = [parent, child].every((i) => planned[i]?.found.match)
    ? ctx.store
        .list('cmdb_rel_ci')
        .some(
          (r) =>
            r.values.parent === planned[parent]?.found.match?.values.sys_id &&
            r.values.child === planned[child]?.found.match?.values.sys_id &&
            r.values.type === type.values.sys_id,
        )
    : false;
  return {
    parent,
    child,
    typeSysId: type.values.sys_id ?? '',
    result: { ...base, operation: existing ? 'NO_CHANGE' : 'INSERT', errorCount: 0 },
  };
}

function commitRelation(
  ctx: EmulatorContext,
  write: WriteContext,
  relation: PlannedRelation,
  results: readonly ItemResult[],
): void {
  if (relation.result.operation !== 'INSERT') return;
  const parent = results[relation.parent]?.sysId ?? '';
  const child = results[relation.child]?.sysId ?? '';
  // Two relations of one payload may name the same pair and type: store it once.
  const exists = ctx.store
    .list('cmdb_rel_ci')
    .some(
      (r) => r.values.parent === parent && r.values.child === child && r.values.type === relation.typeSysId,
    );
  if (!exists) insertRecord(write, 'cmdb_rel_ci', { parent, child, type: relation.typeSysId });
}

interface PlannedReference {
  referenced: number;
  by: number;
  field: string;
}

// referenceItems set a reference column of one item to another item's CI; each must name two payload items
// and a reference column of the referencing item's class. A bad one is an error of the referencing item.
function planReferenceItems(
  ctx: EmulatorContext,
  referenceItems: readonly unknown[],
  items: readonly unknown[],
  planned: PlannedItem[],
): PlannedReference[] {
  const indexOf = (internalId: unknown) =>
    internalId === undefined ? -1 : items.findIndex((i) => isObject(i) && i.internal_id === internalId);
  const out: PlannedReference[] = [];
  for (const raw of referenceItems) {
    const ref = (isObject(raw) ? raw : {}) as {
      referenced?: unknown;
      referencedBy?: unknown;
      referenceField?: unknown;
    };
    const referenced = indexOf(ref.referenced);
    const by = indexOf(ref.referencedBy);
    const field = typeof ref.referenceField === 'string' ? ref.referenceField : '';
    const target = planned[by] ?? planned[referenced] ?? planned[0];
    const def = planned[by] ? ctx.registry.field(planned[by].className, field) : undefined;
    if (referenced >= 0 && by >= 0 && def?.type === 'reference') {
      out.push({ referenced, by, field });
      continue;
    }
    if (!target || target.result.errorCount > 0) continue;
    target.result = failedResult(target.className, target.index, {
      error: 'INVALID_INPUT_DATA',
      message: `Invalid referenceItems entry '${JSON.stringify(raw)}': referenced and referencedBy must be internal_id values of payload items and referenceField a reference column of the referencing class`,
    });
  }
  return out;
}
