import { compileExplodeLevels, parseExplode } from './compile-explode.ts';
import { compileValue, type ValueContext } from './compile-value.ts';
import { loadContract } from './contract/load-contract.ts';
import type { JsonSchema } from './contract/schema-shape.ts';
import { SchemaShape } from './contract/schema-shape.ts';
import { parseDuration } from './duration.ts';
import { MappingError, MappingErrorCode, MappingInvalidError } from './errors.ts';
import { fieldOrder, letsNeeded, type Reads, readsOf } from './evaluation-order.ts';
import type { CompileContext, PathCheck, VariableInfo } from './expression/compile.ts';
import { ExpressionFault } from './expression/fault.ts';
import { ExpressionCompiler } from './expression-compiler.ts';
import { checkFieldReferences } from './field-references.ts';
import { FUNCTIONS } from './functions/registry.ts';
import { DEFAULT_JSONATA_LIMITS } from './jsonata-field.ts';
import type { MappingPlan, ValuePlan } from './mapping-plan.ts';
import { MappingRunner } from './mapping-runner.ts';
import type { MappingSpec } from './mapping-spec.ts';
import type { MappingDocument } from './parse-mapping.ts';
import { didYouMean, listOf } from './suggest.ts';
import { checkTargetColumns } from './target-columns.ts';
import type { CompiledMapping } from './types.ts';
import { UnitConverter } from './units/unit-converter.ts';
import {
  expressionReferences,
  PARENT_VARIABLE,
  ROW_VARIABLE,
  type ValueText,
  valueTexts,
} from './value-references.ts';
import type { YamlPath } from './yaml-locator.ts';

/**
 * Compiles a parsed mapping file: the contract, every expression, lookups and references. Collects every
 * problem and throws one MappingInvalidError listing them all, each with file:line:col and a code.
 * Called by the loaders; the ingest, CDC and ITSM stages get CompiledMapping objects from them.
 */
export function compileMapping(doc: MappingDocument): CompiledMapping {
  const { spec, locator } = doc;
  const errors: MappingError[] = [];
  const warnings: MappingError[] = [];
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
  // Expression faults outside compiler.compile() (explode) at their place in the file.
  const located = <T>(fn: () => T, at: YamlPath): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ExpressionFault) throw compiler.toError(e, at);
      throw e;
    }
  };

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
  const pathCheck = (current: JsonSchema | null): PathCheck | undefined =>
    shape
      ? (base, segments, positions) => {
          if (base === 'root') shape.check(rootSchema!, '$$', segments, positions);
          else if (current) shape.check(current, '$', segments, positions);
        }
      : undefined;

  // Explode is parsed first: its levels say what $ is in lets and fields (the innermost element).
  const explodeLevels = exploding
    ? attempt(() => located(() => parseExplode(spec.explode!, shape, rootSchema), ['explode']))
    : undefined;
  const elementSchema = exploding ? (explodeLevels?.elementSchemas.at(-1) ?? null) : rootSchema;
  // $parent is the level above the innermost, or the message for a one-level explode.
  const levelCount = explodeLevels?.exprs.length ?? 0;
  const parentSchema = levelCount > 1 ? (explodeLevels!.elementSchemas[levelCount - 2] ?? null) : rootSchema;

  const variables = new Map<string, VariableInfo>();
  const slots = new Map<string, number>();
  const ctx: CompileContext = { functions: FUNCTIONS, variables, units, checkPath: pathCheck(elementSchema) };
  let parentSlot = -1;
  if (exploding) {
    parentSlot = slots.size;
    slots.set(PARENT_VARIABLE, parentSlot);
    variables.set(PARENT_VARIABLE, { slot: parentSlot, perElement: true });
  }

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

  // What each let, field, where and explode reads, for the order of evaluation and the checks below.
  // A misplaced $row is reported here, once; the caller then skips compiling that value.
  const referencesAt = (texts: ValueText[], role: string): Reads & { misuse: boolean } => {
    let misuse = false;
    const refs = texts.map((t) => {
      const r = expressionReferences(t);
      if (r && role !== 'field' && (r.bareRow !== null || r.rowFields.size > 0)) {
        misuse = true;
        const pos = r.bareRow ?? r.rowFields.values().next().value!;
        errors.push(
          new MappingError(
            MappingErrorCode.UNKNOWN_VARIABLE,
            `${role} cannot read $row: only fields read other fields ($row.<field>), and ${role === 'explode' ? 'explode runs' : `${role} is evaluated`} before them`,
            { location: compiler.locate(t.path, pos), mappingId: spec.id },
          ),
        );
      } else if (r && r.bareRow !== null) {
        misuse = true;
        errors.push(
          new MappingError(
            MappingErrorCode.UNKNOWN_VARIABLE,
            '$row is the row being built: name the field to read, as $row.<field>',
            { location: compiler.locate(t.path, r.bareRow), mappingId: spec.id },
          ),
        );
      }
      if (r && shape && parentSchema && explodeLevels) {
        for (const p of r.parentPaths) {
          try {
            shape.check(parentSchema, '$parent', p.segments, p.positions);
          } catch (e) {
            if (!(e instanceof ExpressionFault)) throw e;
            errors.push(compiler.toError(e, t.path));
          }
        }
      }
      return r;
    });
    return { ...readsOf(refs), misuse };
  };

  const letReads = new Map<string, Reads>();
  const lets: ValuePlan[] = [];
  for (const [name, value] of Object.entries(spec.let ?? {})) {
    if (name === PARENT_VARIABLE || name === ROW_VARIABLE) {
      errors.push(
        invalid(
          `let '${name}' is reserved: $parent is the element one explode level up and $row the row being built; rename the let`,
          ['let', name],
        ),
      );
      continue;
    }
    const reads = referencesAt(valueTexts(value, ['let', name]), 'let');
    letReads.set(name, reads);
    const compiled = reads.misuse
      ? undefined
      : attempt(() => compileValue(name, 'let', value, ['let', name], vc));
    const slot = slots.size;
    slots.set(name, slot);
    // A let that failed to compile is still declared, so later uses report their own problems only.
    const perElement = exploding && (compiled?.perElement ?? false);
    variables.set(name, { slot, perElement });
    if (compiled) lets.push({ ...compiled.plan, slot });
  }

  const explodeReads = exploding
    ? referencesAt([{ text: spec.explode!, path: ['explode'], jsonata: false }], 'explode')
    : { ...readsOf([]), misuse: false };
  const explode =
    !explodeLevels || explodeReads.misuse
      ? undefined
      : attempt(() => {
          for (const name of explodeReads.variables) {
            if (!variables.get(name)?.perElement) continue;
            throw invalid(
              name === PARENT_VARIABLE
                ? 'explode cannot read $parent: it makes the elements $parent belongs to'
                : `explode reads $${name}, which reads $ (an element) or $parent; explode can read only lets evaluated once per message, which read the message as $$ (e.g. $$.items, not $.items)`,
              ['explode'],
            );
          }
          return located(
            () =>
              compileExplodeLevels(
                explodeLevels,
                { ...ctx, checkPath: pathCheck(rootSchema) },
                pathCheck,
                locator.at(['explode']),
              ),
            ['explode'],
          );
        });

  // Fields read each other as $row.<field>: a variable only they see, holding the row being built.
  const rowSlot = slots.size;
  const fieldVariables = new Map(variables).set(ROW_VARIABLE, { slot: rowSlot, perElement: true });
  const fieldContext: ValueContext = { ...vc, ctx: { ...ctx, variables: fieldVariables } };
  const fieldReads = new Map<string, Reads>();
  const fieldPlans = new Map<string, ValuePlan>();
  for (const [name, value] of Object.entries(spec.fields)) {
    if (name === 'mapping_id' || name === 'mapping_version') {
      errors.push(invalid(`field '${name}' is added to every row by the hub; remove it`, ['fields', name]));
      continue;
    }
    const reads = referencesAt(valueTexts(value, ['fields', name]), 'field');
    fieldReads.set(name, reads);
    for (const [field, pos] of reads.rowFields) {
      if (Object.hasOwn(spec.fields, field)) continue;
      const text = valueTexts(value, ['fields', name]).find((t) => t.text.includes(`$row`))!;
      const known = Object.keys(spec.fields);
      errors.push(
        new MappingError(
          MappingErrorCode.UNKNOWN_FIELD_REF,
          `field '${name}' reads $row.${field}, which the mapping does not produce${didYouMean(field, known)}; fields: ${listOf(known)}`,
          { location: compiler.locate(text.path, pos), mappingId: spec.id },
        ),
      );
    }
    const compiled = reads.misuse
      ? undefined
      : attempt(() => compileValue(name, 'field', value, ['fields', name], fieldContext));
    if (compiled) fieldPlans.set(name, compiled.plan);
  }
  const ordered = fieldOrder(fieldReads);
  if (ordered.cycle) {
    const [first] = ordered.cycle;
    errors.push(
      invalid(
        ordered.cycle.length === 2
          ? `field '${first}' reads itself ($row.${first}); a field can read only other fields`
          : `fields read each other in a cycle: ${ordered.cycle.join(' → ')}; one of them must compute its value from the input instead`,
        ['fields', first!],
        MappingErrorCode.FIELD_CYCLE,
      ),
    );
  }
  const fields = (ordered.order ?? []).flatMap((name) => fieldPlans.get(name) ?? []);

  const whereReads =
    spec.where === undefined
      ? { ...readsOf([]), misuse: false }
      : referencesAt([{ text: spec.where, path: ['where'], jsonata: false }], 'where');
  const where =
    spec.where === undefined || whereReads.misuse ? null : attempt(() => compileWhere(spec.where!, vc));
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

  // Where runs as early as it can: after only the lets it reads (mappings/README.md, "where").
  const beforeExplode = letsNeeded(explodeReads.variables, letReads);
  const beforeWhere = where ? letsNeeded(whereReads.variables, letReads) : null;
  const early = (plan: ValuePlan) =>
    !beforeWhere || beforeWhere.has(plan.name) || beforeExplode.has(plan.name);
  const isMessageLet = (plan: ValuePlan) => !variables.get(plan.name)?.perElement;
  const used = letsNeeded(
    [
      ...explodeReads.variables,
      ...whereReads.variables,
      ...[...fieldReads.values()].flatMap((r) => [...r.variables]),
    ],
    letReads,
  );
  for (const name of letReads.keys()) {
    if (used.has(name)) continue;
    warnings.push(
      new MappingError(
        MappingErrorCode.UNUSED_LET,
        `let '${name}' is never read (by a field, another let, where or explode); remove it or use it as $${name}`,
        {
          location: locator.keyAt(['let', name]),
          mappingId: spec.id,
          mappingVersion: spec.version,
          policy: 'warn',
        },
      ),
    );
  }

  const refs = attempt(() => checkFieldReferences(spec, locator, Object.keys(spec.fields)));
  errors.push(...(refs?.errors ?? []));
  errors.push(...checkTargetColumns(spec, locator));
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
    messageLets: lets.filter((p) => isMessageLet(p) && early(p)),
    deferredMessageLets: lets.filter((p) => isMessageLet(p) && !early(p)),
    whereLets: lets.filter((p) => !isMessageLet(p) && early(p) && beforeWhere !== null),
    elementLets: lets.filter((p) => !isMessageLet(p) && !(early(p) && beforeWhere !== null)),
    where: where ?? null,
    fields,
    fieldNames: Object.keys(spec.fields).filter((n) => fieldPlans.has(n)),
    // Only set per row when something reads them: the common mapping pays nothing for either.
    parentSlot: [...letReads.values(), ...fieldReads.values(), whereReads].some((r) =>
      r.variables.has(PARENT_VARIABLE),
    )
      ? parentSlot
      : -1,
    rowSlot: [...fieldReads.values()].some((r) => r.rowFields.size > 0) ? rowSlot : -1,
    varCount: rowSlot + 1,
    async: [...lets, ...fields].some((p) => p.async),
    lookups: refs?.lookups ?? [],
    lateData,
    onError: vc.defaultOnError,
    testLocations: (spec.tests ?? []).map((_, i) => locator.at(['tests', i])),
    warnings,
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
