import { createRequire } from 'node:module';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { MappingError, MappingErrorCode, MappingInvalidError, type SourceLocation } from './errors.ts';
import { FORBIDDEN_KEYS } from './expression/scope.ts';
import type { MappingSpec } from './mapping-spec.ts';
import { didYouMean, listOf } from './suggest.ts';
import { YamlLocator, type YamlPath } from './yaml-locator.ts';

const require = createRequire(import.meta.url);
const mappingSchema = require('../../mappings/mapping.schema.json') as Record<string, unknown>;

// verbose: errors carry their parent schema, so "unknown key" can list the keys allowed at that place.
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
const validateMappingSpec = ajv.compile<MappingSpec>(mappingSchema);

// The YAML mistakes mapping authors make most, with what to do about them.
const YAML_HINTS: Record<string, string> = {
  BLOCK_AS_IMPLICIT_KEY:
    '; an expression containing \': \' (a named argument such as format: "epoch_ms") must be quoted with \'...\' or written as a block scalar (>-), or write the argument as format="epoch_ms"',
  TAB_AS_INDENT: '; indent with spaces, not tabs',
};

/** A mapping file parsed and checked against mappings/mapping.schema.json, not yet compiled. */
export interface MappingDocument {
  file: string;
  text: string;
  spec: MappingSpec;
  locator: YamlLocator;
}

/**
 * Parses mapping YAML and validates its structure. Throws MappingInvalidError listing every problem, each
 * with `file:line:col` and a code (YAML_SYNTAX, UNKNOWN_KEY, INVALID_MAPPING). Called by loadMappingFile
 * and by tests that build mappings from strings.
 */
export function parseMappingText(text: string, file: string): MappingDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new YamlLocator(file, text, doc, lineCounter);
  if (doc.errors.length > 0) {
    // One error per line: the parser's follow-on errors on the same line only repeat the first.
    const errors = new Map<number, MappingError>();
    for (const e of doc.errors) {
      const location = locator.atOffset(e.pos[0]);
      if (errors.has(location.line)) continue;
      const hint = YAML_HINTS[e.code] ?? '';
      const detail = `invalid YAML: ${e.message.split('\n')[0]}${hint}`;
      errors.set(location.line, new MappingError(MappingErrorCode.YAML_SYNTAX, detail, { location }));
    }
    throw new MappingInvalidError([...errors.values()]);
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!validateMappingSpec(value)) {
    const errors = pruneErrors(validateMappingSpec.errors ?? []).map((e) => describeSchemaError(e, locator));
    throw new MappingInvalidError(errors);
  }
  return { file, text, spec: value, locator };
}

// ajv reports a failing `type` alongside the more precise keyword errors of the same place, and
// `if`-style noise; keep one error per place, preferring the most specific.
function pruneErrors(errors: ErrorObject[]): ErrorObject[] {
  const byPlace = new Map<string, ErrorObject>();
  const rank = (e: ErrorObject) => (e.keyword === 'type' ? 2 : e.keyword === 'required' ? 1 : 0);
  for (const e of errors) {
    // Errors inside propertyNames repeat as one 'propertyNames' error that names the property.
    if (e.propertyName !== undefined) continue;
    const place = e.keyword === 'additionalProperties' ? `${e.instancePath}/${extraKey(e)}` : e.instancePath;
    const seen = byPlace.get(place);
    if (!seen || rank(e) < rank(seen)) byPlace.set(place, e);
  }
  return [...byPlace.values()];
}

function extraKey(e: ErrorObject): string {
  return (e.params as { additionalProperty: string }).additionalProperty;
}

function describeSchemaError(e: ErrorObject, locator: YamlLocator): MappingError {
  const path: YamlPath = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const where = path.length === 0 ? 'the mapping' : `'${path.join('.')}'`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = extraKey(e);
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return new MappingError(
        MappingErrorCode.UNKNOWN_KEY,
        `unknown key '${key}' in ${where}${didYouMean(key, allowed)}; allowed here: ${listOf(allowed)}`,
        { location: locator.keyAt([...path, key]) },
      );
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return invalid(`${where} is missing required key '${missing}'`, locator.keyAt(path));
    }
    case 'enum':
      return invalid(
        `${where} must be one of ${listOf((e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)))}`,
        locator.at(path),
      );
    case 'const':
      return invalid(
        `${where} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`,
        locator.at(path),
      );
    case 'propertyNames': {
      const name = (e.params as { propertyName: string }).propertyName;
      const reason = FORBIDDEN_KEYS.has(name)
        ? `is reserved: as a key it would reach the prototype of every row (${listOf(FORBIDDEN_KEYS)} are refused); choose another name`
        : 'is not a valid name: use letters, digits and _, not starting with a digit';
      return invalid(`'${name}' in ${where} ${reason}`, locator.keyAt([...path, name]));
    }
    default:
      return invalid(`${where} ${e.message ?? 'is invalid'}`, locator.at(path));
  }
}

function invalid(detail: string, location: SourceLocation): MappingError {
  return new MappingError(MappingErrorCode.INVALID_MAPPING, detail, { location });
}
