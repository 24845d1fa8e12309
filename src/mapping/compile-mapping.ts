import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileValue, type ValueContext } from './compile-value.ts';
import type { JsonSchema } from './contract/schema-shape.ts';
import { SchemaShape } from './contract/schema-shape.ts';
import { SourceContract } from './contract/source-contract.ts';
import { parseDuration } from './duration.ts';
import { ensureError, MappingError, MappingErrorCode, MappingInvalidError } from './errors.ts';
import type { Expr } from './expression/ast.ts';
import type { CompileContext, PathCheck, VariableInfo } from './expression/compile.ts';
import { compileExpression } from './expression/compile.ts';
import { type FlatPath, flattenPath } from './expression/compile-path.ts';
import { ExpressionFault } from './expression/fault.ts';
import { parseExpression } from './expression/parser.ts';
import { ExpressionCompiler } from './expression-compiler.ts';
import { checkFieldReferences } from './field-references.ts';
import { FUNCTIONS } from './functions/registry.ts';
import { DEFAULT_JSONATA_LIMITS } from './jsonata-field.ts';
import type { MappingPlan, ValuePlan } from './mapping-plan.ts';
import { MappingRunner } from './mapping-runner.ts';
import type { MappingSpec } from './mapping-spec.ts';
import type { MappingDocument } from './parse-mapping.ts';
import type { CompiledMapping } from './types.ts';
import { UnitConverter } from './units/unit-converter.ts';
import type { YamlPath } from './yaml-locator.ts';

/**
 * Compiles a parsed mapping file: the contract, every expression, lookups and references. Collects every
 * problem and throws one MappingInvalidError listing them all, each with file:line:col and a code.
 * Called by the loaders; the ingest, CDC and ITSM stages get CompiledMapping objects from them.
 */
export function compileMapping(doc: MappingDocument): CompiledMapping {
  const { spec, locator } = doc;
  const errors: MappingError[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof MappingError) {
        errors.push(e);
        return undefined;
      }
      throw e;
    }
  };
  const invalid = (
    detail: string,
    at: YamlPath,
    code: MappingError['code'] = MappingErrorCode.INVALID_MAPPING,
  ) => new MappingError(code, detail, { location: locator.at(at), mappingId: spec.id });
  const compiler = new ExpressionCompiler(locator, spec.id);

  const units = new UnitConverter(spec.units?.aliases);
  for (const alias of Object.keys(spec.units?.aliases ?? {})) {
    attempt(() => {
      const problem = units.check(alias);
      if (problem) throw invalid(problem.message, ['units', 'aliases', alias], problem.code);
    });
  }

  const contract = attempt(() => loadContract(doc));
  const shape = contract ? new SchemaShape(contract.schema) : null;
  const exploding = spec.explode !== undefined;
  const rootSchema = contract?.schema ?? null;
  let elementSchema: JsonSchema | null = exploding ? null : rootSchema;
  const pathCheck = (current: JsonSchema | null): PathCheck | undefined =>
    shape
      ? (base, segments, positions) => {
          if (base === 'root') shape.check(rootSchema!, '$$', segments, positions);
          else if (current) shape.check(current, '$', segments, positions);
        }
      : undefined;

  const variables = new Map<string, VariableInfo>();
  const slots = new Map<string, number>();
  const ctx: CompileContext = { functions: FUNCTIONS, variables, units, checkPath: pathCheck(rootSchema) };

  const explode = attempt(() =>
    compileExplode(spec, compiler, ctx, shape, (s) => (elementSchema = s), locator.at(['explode'])),
  );
  ctx.checkPath = pathCheck(elementSchema);

  const vc: ValueContext = {
    compiler,
    ctx,
    jsonataLimits: {
      timeoutMs: spec.jsonata?.timeout_ms ?? DEFAULT_JSONATA_LIMITS.timeoutMs,
      stack: spec.jsonata?.stack ?? DEFAULT_JSONATA_LIMITS.stack,
      sequence: spec.jsonata?.sequence ?? DEFAULT_JSONATA_LIMITS.sequence,
    },
    defaultOnError: spec.on_error ?? 'dead_letter',
    slots,
    invalid,
  };

  const messageLets: ValuePlan[] = [];
  const elementLets: ValuePlan[] = [];
  for (const [name, value] of Object.entries(spec.let ?? {})) {
    const compiled = attempt(() => compileValue(name, 'let', value, ['let', name], vc));
    const slot = slots.size;
    slots.set(name, slot);
    // A let that failed to compile is still declared, so later uses report their own problems only.
    const perElement = exploding && (compiled?.perElement ?? false);
    variables.set(name, { slot, perElement });
    if (compiled) (perElement ? elementLets : messageLets).push({ ...compiled.plan, slot });
  }

  const fields: ValuePlan[] = [];
  for (const [name, value] of Object.entries(spec.fields)) {
    if (name === 'mapping_id' || name === 'mapping_version') {
      errors.push(invalid(`field '${name}' is added to every row by the hub; remove it`, ['fields', name]));
      continue;
    }
    const compiled = attempt(() => compileValue(name, 'field', value, ['fields', name], vc));
    if (compiled) fields.push(compiled.plan);
  }

  const where = spec.where === undefined ? null : attempt(() => compileWhere(spec.where!, vc));
  // The routing predicate runs before explode, on the message: $ is the message there.
  const match =
    spec.source.match === undefined
      ? null
      : attempt(
          () =>
            compiler.compile(spec.source.match!, ['source', 'match'], {
              ...ctx,
              variables: new Map(),
              checkPath: pathCheck(rootSchema),
            }).evaluate,
        );

  const refs = attempt(() => checkFieldReferences(spec, locator, Object.keys(spec.fields)));
  errors.push(...(refs?.errors ?? []));
  const lateData = {
    futureSkewMs:
      attempt(() => parseDuration(spec.late_data?.future_skew, locator.at(['late_data', 'future_skew']))) ??
      null,
    maxLatenessMs:
      attempt(() => parseDuration(spec.late_data?.max_lateness, locator.at(['late_data', 'max_lateness']))) ??
      null,
  };

  if (errors.length > 0) throw new MappingInvalidError(errors.map((e) => withMappingId(e, spec)));
  const plan: MappingPlan = {
    spec,
    file: doc.file,
    contract: contract ?? null,
    contractLocation: locator.keyAt(['source', 'schema']),
    match: match ?? null,
    explode: explode ?? null,
    messageLets,
    elementLets,
    where: where ?? null,
    fields,
    varCount: slots.size,
    async: [...messageLets, ...elementLets, ...fields].some((p) => p.async),
    lookups: refs?.lookups ?? [],
    lateData,
    onError: vc.defaultOnError,
    testLocations: (spec.tests ?? []).map((_, i) => locator.at(['tests', i])),
  };
  return new MappingRunner(plan);
}

function withMappingId(e: MappingError, spec: MappingSpec): MappingError {
  if (e.mappingId) return e;
  return new MappingError(e.code, e.detail, {
    location: e.file ? { file: e.file, line: e.line!, col: e.col! } : undefined,
    mappingId: spec.id,
    mappingVersion: spec.version,
  });
}

function loadContract(doc: MappingDocument): SourceContract | null {
  const { spec, locator } = doc;
  const schemaRef = spec.source.schema;
  if (schemaRef === undefined) return null;
  const at = locator.at(['source', 'schema']);
  let schema: JsonSchema;
  if (typeof schemaRef === 'string') {
    const file = path.resolve(path.dirname(doc.file), schemaRef);
    try {
      schema = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
    } catch (e) {
      throw new MappingError(
        MappingErrorCode.CONTRACT_INVALID,
        `cannot load the source schema ${schemaRef}: ${ensureError(e).message}`,
        { location: at, mappingId: spec.id },
      );
    }
  } else {
    schema = schemaRef;
  }
  try {
    return new SourceContract(schema, spec.source.unknown_fields ?? 'warn');
  } catch (e) {
    throw new MappingError(
      MappingErrorCode.CONTRACT_INVALID,
      `the source schema is not a valid JSON Schema: ${ensureError(e).message}`,
      { location: at, mappingId: spec.id },
    );
  }
}

function compileExplode(
  spec: MappingSpec,
  compiler: ExpressionCompiler,
  ctx: CompileContext,
  shape: SchemaShape | null,
  setElementSchema: (schema: JsonSchema | null) => void,
  location: MappingPlan['contractLocation'],
): MappingPlan['explode'] {
  if (spec.explode === undefined) return null;
  const at = ['explode'];
  let tree: Expr;
  try {
    tree = parseExpression(spec.explode);
    // `$.readings[*]` and `$.readings` mean the same: one row per element.
    if (tree.type === 'wildcard') tree = tree.object;
    const path = literalPath(tree);
    if (shape && path) setElementSchema(shape.elementsOf(path.segments, path.positions));
    const compiled = compileExpression(tree, ctx);
    return { evaluate: compiled.evaluate, location };
  } catch (e) {
    if (e instanceof ExpressionFault) throw compiler.toError(e, at);
    throw e;
  }
}

// `$.a.b` / `$$.a.b` as segments (with $ being the message here), or null for anything computed.
function literalPath(tree: Expr): FlatPath | null {
  const path = flattenPath(tree);
  return path.base.type === 'current' || path.base.type === 'root' ? path : null;
}

function compileWhere(text: string, vc: ValueContext): ValuePlan {
  const compiled = vc.compiler.compile(text, ['where'], vc.ctx);
  return {
    name: 'where',
    role: 'where',
    evaluate: compiled.evaluate,
    async: false,
    onError: vc.defaultOnError,
    fallback: null,
    flag: null,
    slot: -1,
    locate: (pos) => vc.compiler.locate(['where'], pos),
  };
}
