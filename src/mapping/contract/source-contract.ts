import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { formatPath, type PathSegment } from '../expression/compile-path.ts';
import type { UnknownFieldsPolicy } from '../mapping-spec.ts';
import type { JsonSchema } from './schema-shape.ts';

const require = createRequire(import.meta.url);
// ajv-formats is CommonJS; through createRequire its default export is the plugin.
const addFormats = (require('ajv-formats') as { default: (ajv: Ajv) => Ajv }).default;

// strict: a typo in a contract ("requried") is an error, not a no-op. One instance per contract, because
// ajv refuses a second schema with the same $id and a contract is compiled open and closed.
function createAjv(): Ajv {
  return addFormats(new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }));
}

/** The outcome of checking one record against its contract. */
export interface ContractCheck {
  /** "$.readings[1].v must be number", or null when the record is valid. */
  invalid: string | null;
  /** Paths of fields the contract does not declare (empty under unknown_fields: ignore). */
  unknown: string[];
}

const VALID: ContractCheck = { invalid: null, unknown: [] };

/**
 * A compiled source contract. With unknown_fields warn|fail it validates against a closed variant of the
 * schema first (additionalProperties: false wherever the contract lists properties), so the common case
 * of a clean record costs one ajv call; only a failing record is looked at twice to tell an invalid
 * record from one that merely carries extra fields.
 */
export class SourceContract {
  readonly schema: JsonSchema;
  private readonly validateOpen: ValidateFunction;
  private readonly validateClosed: ValidateFunction | null;
  private readonly policy: UnknownFieldsPolicy;

  /** Throws ajv's error when the schema itself is invalid; the compiler reports it as CONTRACT_INVALID. */
  constructor(schema: JsonSchema, policy: UnknownFieldsPolicy) {
    this.schema = schema;
    this.policy = policy;
    this.validateOpen = createAjv().compile(schema);
    const closed = policy === 'ignore' ? null : closeSchema(schema);
    this.validateClosed = closed ? createAjv().compile(closed) : null;
  }

  check(record: unknown): ContractCheck {
    if (this.validateClosed?.(record)) return VALID;
    if (!this.validateOpen(record)) return { invalid: describe(this.validateOpen.errors), unknown: [] };
    if (this.policy === 'ignore') return VALID;
    const unknown: string[] = [];
    findUnknown(this.schema, this.schema, record, [], unknown);
    return { invalid: null, unknown };
  }
}

function describe(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'the record does not match the source schema';
  const segments: PathSegment[] = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? { index: Number(s) } : s));
  const detail =
    e.keyword === 'enum'
      ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
      : e.keyword === 'additionalProperties'
        ? `has field '${(e.params as { additionalProperty: string }).additionalProperty}', which the schema does not allow`
        : (e.message ?? 'is invalid');
  return `${formatPath('$', segments)} ${detail}`;
}

// A copy of the schema with additionalProperties: false on every object that lists its properties and
// says nothing about others. Composite schemas would make that wrong, so they get no closed variant.
function closeSchema(schema: JsonSchema): JsonSchema | null {
  if (JSON.stringify(schema).match(/"(anyOf|oneOf|allOf|if|unevaluatedProperties)"/)) return null;
  const close = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(close);
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = k === 'enum' || k === 'const' ? v : close(v);
    if (out.properties && out.additionalProperties === undefined && out.patternProperties === undefined) {
      out.additionalProperties = false;
    }
    return out;
  };
  return close(schema) as JsonSchema;
}

function findUnknown(
  root: JsonSchema,
  schema: JsonSchema,
  value: unknown,
  path: PathSegment[],
  out: string[],
): void {
  const node = resolveRef(root, schema);
  if (Array.isArray(value)) {
    const items = node.items;
    if (typeof items === 'object' && items !== null && !Array.isArray(items)) {
      value.forEach((item, i) => {
        findUnknown(root, items as JsonSchema, item, [...path, { index: i }], out);
      });
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return;
  const open = node.additionalProperties !== undefined || node.patternProperties !== undefined;
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(properties, key)) {
      findUnknown(root, properties[key]!, (value as Record<string, unknown>)[key], [...path, key], out);
    } else if (!open) {
      out.push(formatPath('$', [...path, key]));
    }
  }
}

function resolveRef(root: JsonSchema, schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    target = typeof target === 'object' && target !== null ? (target as JsonSchema)[part] : undefined;
  }
  return typeof target === 'object' && target !== null ? (target as JsonSchema) : schema;
}
