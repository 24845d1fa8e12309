import { expandElements } from './compile-explode.ts';
import { ensureError, MappingError, MappingErrorCode, type SourceLocation } from './errors.ts';
import { describeValue, ExpressionFault } from './expression/fault.ts';
import type { MappingMeta, Scope } from './expression/scope.ts';
import { fieldSourcesOf } from './field-sources.ts';
import type { MappingPlan, ValuePlan } from './mapping-plan.ts';
import type { BatchMapResult, CompiledMapping, MappedRow, MappingInput, MapResult } from './types.ts';

// Outcomes of evaluating a value other than the value itself.
const DROP: unique symbol = Symbol('drop row');
const DEAD: unique symbol = Symbol('dead letter');
const SKIP: unique symbol = Symbol('where is false');
// A message-level value failed while building a row (a deferred message let): the record makes no rows.
const HALT: unique symbol = Symbol('halt record');
type Outcome = typeof DROP | typeof DEAD;

const NO_META: MappingMeta = Object.freeze({});
const NO_ROWS: MappedRow[] = [];
const NO_ELEMENTS: number[] = [];
const NO_ERRORS: readonly MappingError[] = Object.freeze([]);

/**
 * Something unexpected (not an ExpressionFault) while mapping one record, with what the runner was doing.
 * Caught per record and turned into a RECORD_FAILED dead letter, so it never costs the batch.
 */
class RecordFailure extends Error {
  readonly during: string;
  readonly location: SourceLocation | undefined;
  readonly field: string | undefined;
  readonly element: number | undefined;

  constructor(
    cause: unknown,
    during: string,
    at: { location?: SourceLocation; field?: string | undefined; element?: number | undefined },
  ) {
    super(during, { cause });
    this.during = during;
    this.location = at.location;
    this.field = at.field;
    this.element = at.element;
  }
}

/** Per-record bookkeeping: what was reported, and the fields to overwrite when a value was flagged. */
interface RecordRun {
  /** Allocated on the first error: most records have none. */
  errors: MappingError[] | null;
  deadLetter: MappingError | null;
  flags: ValuePlan[] | null;
  /** With a multi-level explode, each element's parent; null: the parent is the message. */
  parents: unknown[] | null;
  /** Whether the deferred message lets have been evaluated (at the first row where keeps). */
  deferredDone: boolean;
}

/**
 * Runs a compiled mapping: contract check → message lets → explode (every level) → per element: the lets
 * where reads, where, the other lets, fields (each after the fields it reads).
 * A failing value is handled by its on_error policy, so one bad record never stops the others; only
 * fail_batch throws. Anything else thrown while mapping a record (a stack overflow on a deeply nested
 * payload, a bug) dead-letters that record as RECORD_FAILED. The synchronous path is the hot one (the
 * benchmark's), so it avoids closures and allocations beyond the rows themselves.
 */
export class MappingRunner implements CompiledMapping {
  readonly id: string;
  readonly version: number;
  readonly kind: CompiledMapping['kind'];
  readonly file: string;
  readonly description: string | undefined;
  readonly source: CompiledMapping['source'];
  readonly target: CompiledMapping['target'];
  readonly fieldNames: readonly string[];
  readonly lookups: CompiledMapping['lookups'];
  readonly lateData: CompiledMapping['lateData'];
  readonly onError: CompiledMapping['onError'];
  readonly async: boolean;
  readonly tests: CompiledMapping['tests'];
  readonly warnings: CompiledMapping['warnings'];
  readonly fieldSources: CompiledMapping['fieldSources'];
  private readonly plan: MappingPlan;
  /** Every row starts as a copy of this: one allocation with the final shape, no property transitions. */
  private readonly template: MappedRow;

  constructor(plan: MappingPlan) {
    const spec = plan.spec;
    this.plan = plan;
    this.id = spec.id;
    this.version = spec.version;
    this.kind = spec.kind;
    this.file = plan.file;
    this.description = spec.description;
    this.source = { ...spec.source, unknownFields: spec.source.unknown_fields ?? 'warn' };
    this.target = spec.target;
    this.fieldNames = plan.fieldNames;
    this.warnings = plan.warnings;
    this.fieldSources = fieldSourcesOf(spec);
    this.lookups = plan.lookups;
    this.lateData = plan.lateData;
    this.onError = plan.onError;
    this.async = plan.async;
    this.template = Object.fromEntries([
      ...plan.fieldNames.map((name) => [name, null]),
      ['mapping_id', spec.id],
      ['mapping_version', spec.version],
    ]) as MappedRow;
    this.tests = (spec.tests ?? []).map((test, i) => ({ spec: test, location: plan.testLocations[i]! }));
  }

  // Any error, a stack overflow included, counts as false: the record then finds no mapping and the
  // caller dead-letters it alone.
  matches(record: unknown, meta: MappingMeta = NO_META): boolean {
    if (!this.plan.match) return true;
    try {
      return this.plan.match({ root: record, cur: record, meta, vars: [] }) === true;
    } catch {
      return false;
    }
  }

  map(record: unknown, meta: MappingMeta = NO_META): MapResult {
    if (this.async) {
      throw new MappingError(
        MappingErrorCode.ASYNC_MAPPING,
        `mapping ${this.id} v${this.version} uses JSONata, which is asynchronous; call mapAsync() or mapBatch()`,
        { mappingId: this.id, mappingVersion: this.version },
      );
    }
    const run: RecordRun = newRun();
    try {
      return this.mapSync(record, meta, run);
    } catch (e) {
      return this.contain(e, run);
    }
  }

  async mapAsync(record: unknown, meta: MappingMeta = NO_META): Promise<MapResult> {
    if (!this.async) return this.map(record, meta);
    const run: RecordRun = newRun();
    try {
      return await this.mapAsyncRecord(record, meta, run);
    } catch (e) {
      return this.contain(e, run);
    }
  }

  private mapSync(record: unknown, meta: MappingMeta, run: RecordRun): MapResult {
    const s = this.begin(record, meta, run);
    if (!s) return finish(run, NO_ROWS);
    for (const plan of this.plan.messageLets) {
      const v = this.evaluate(plan, s, -1, run);
      if (v === DROP || v === DEAD) return finish(run, NO_ROWS);
      s.vars[plan.slot] = v;
    }
    const elements = this.elements(s, run);
    if (elements === DEAD) return finish(run, NO_ROWS);
    const rows: MappedRow[] = [];
    const rowElements: number[] = [];
    for (let i = 0; i < (elements === null ? 1 : elements.length); i++) {
      if (elements !== null) this.enter(s, elements, i, run);
      run.flags = null;
      const row = this.row(s, elements === null ? -1 : i, run, undefined);
      if (row === DEAD || row === HALT) return finish(run, NO_ROWS);
      if (typeof row !== 'symbol') {
        rows.push(row);
        rowElements.push(elements === null ? -1 : i);
      }
    }
    return finish(run, rows, rowElements);
  }

  // The same steps as mapSync(), awaiting JSONata values; rows are then built by the synchronous row().
  private async mapAsyncRecord(record: unknown, meta: MappingMeta, run: RecordRun): Promise<MapResult> {
    const s = this.begin(record, meta, run);
    if (!s) return finish(run, NO_ROWS);
    for (const plan of this.plan.messageLets) {
      const v = await this.evaluateAsync(plan, s, -1, run);
      if (v === DROP || v === DEAD) return finish(run, NO_ROWS);
      s.vars[plan.slot] = v;
    }
    const elements = this.elements(s, run);
    if (elements === DEAD) return finish(run, NO_ROWS);
    const rows: MappedRow[] = [];
    const rowElements: number[] = [];
    for (let i = 0; i < (elements === null ? 1 : elements.length); i++) {
      if (elements !== null) this.enter(s, elements, i, run);
      run.flags = null;
      const resolved = await this.resolveAsync(s, elements === null ? -1 : i, run);
      const row = resolved instanceof Map ? this.row(s, elements === null ? -1 : i, run, resolved) : resolved;
      if (row === DEAD || row === HALT) return finish(run, NO_ROWS);
      if (typeof row !== 'symbol') {
        rows.push(row);
        rowElements.push(elements === null ? -1 : i);
      }
    }
    return finish(run, rows, rowElements);
  }

  async mapBatch(inputs: readonly MappingInput[]): Promise<BatchMapResult> {
    const result: BatchMapResult = { rows: [], rowInputs: [], rowElements: [], failed: [], flagged: [] };
    for (let index = 0; index < inputs.length; index++) {
      const input = inputs[index]!;
      let mapped: MapResult;
      try {
        mapped = this.async
          ? await this.mapAsync(input.payload, input.meta)
          : this.map(input.payload, input.meta);
      } catch (e) {
        // map() and mapAsync() already contain record errors; this is the last line for anything else.
        mapped = this.contain(e, newRun());
      }
      for (let r = 0; r < mapped.rows.length; r++) {
        result.rows.push(mapped.rows[r]!);
        result.rowInputs.push(index);
        result.rowElements.push(mapped.rowElements[r] ?? -1);
      }
      if (mapped.deadLetter) result.failed.push({ index, error: mapped.deadLetter });
      for (const error of mapped.errors)
        if (error !== mapped.deadLetter) result.flagged.push({ index, error });
    }
    return result;
  }

  // The contract check: an invalid record is dead-lettered; unknown fields warn or dead-letter by policy.
  private checkSource(record: unknown, run: RecordRun): boolean {
    const contract = this.plan.contract;
    if (!contract) return true;
    let check: ReturnType<typeof contract.check>;
    try {
      check = contract.check(record);
    } catch (e) {
      throw new RecordFailure(e, 'checking it against source.schema', {
        location: this.plan.contractLocation,
      });
    }
    if (check.invalid !== null) {
      run.deadLetter = this.error(
        MappingErrorCode.SOURCE_INVALID,
        `the record does not match the source schema: ${check.invalid}`,
        'dead_letter',
      );
      report(run, run.deadLetter);
      return false;
    }
    if (check.unknown.length === 0) return true;
    const fail = this.source.unknownFields === 'fail';
    const error = this.error(
      MappingErrorCode.UNKNOWN_FIELD,
      `the record has fields the source schema does not declare: ${check.unknown.join(', ')}` +
        (fail ? ' (source.unknown_fields: fail)' : ''),
      fail ? 'dead_letter' : 'warn',
    );
    report(run, error);
    if (fail) run.deadLetter = error;
    return !fail;
  }

  private elements(s: Scope, run: RecordRun): unknown[] | null | typeof DEAD {
    const explode = this.plan.explode;
    if (!explode) return null;
    let fault: ExpressionFault;
    try {
      return expandElements(explode, s, run);
    } catch (e) {
      if (!(e instanceof ExpressionFault)) {
        throw new RecordFailure(e, 'evaluating explode', { location: explode.location });
      }
      fault = e;
    }
    const error = new MappingError(fault.code, `explode: ${fault.message}`, {
      location: explode.location,
      mappingId: this.id,
      mappingVersion: this.version,
      policy: this.onError === 'fail_batch' ? 'fail_batch' : 'dead_letter',
    });
    if (this.onError === 'fail_batch') throw error;
    run.deadLetter = error;
    report(run, error);
    return DEAD;
  }

  // Makes element i the current one: $ is the element, $parent the element one level up (or the message).
  private enter(s: Scope, elements: unknown[], i: number, run: RecordRun): void {
    s.cur = elements[i];
    const slot = this.plan.parentSlot;
    if (slot >= 0) s.vars[slot] = run.parents === null ? s.root : run.parents[i];
  }

  /**
   * Builds one row: element lets, where, fields. `resolved` holds values already computed by
   * resolveAsync (every element let, and the JSONata fields); everything else is evaluated here.
   */
  private row(
    s: Scope,
    element: number,
    run: RecordRun,
    resolved: Map<ValuePlan, unknown> | undefined,
  ): MappedRow | Outcome | typeof SKIP | typeof HALT {
    if (!resolved) {
      const gate = this.gate(s, element, run);
      if (gate !== true) return gate;
    }
    const row: Record<string, unknown> = { ...this.template };
    if (this.plan.rowSlot >= 0) s.vars[this.plan.rowSlot] = row;
    const fields = this.plan.fields;
    for (let i = 0; i < fields.length; i++) {
      const plan = fields[i]!;
      let v = plan.async ? resolved!.get(plan) : this.evaluate(plan, s, element, run);
      // v - v is 0 for every finite number and NaN for NaN and ±Infinity: one subtraction on the hot path.
      if (typeof v === 'number' && v - v !== 0) v = this.notFinite(plan, v, element, run);
      if (v === DROP || v === DEAD) return v;
      row[plan.name] = v;
    }
    return this.seal(row, run);
  }

  /**
   * Everything before the fields, where first (mappings/README.md, "where"): the element lets where reads,
   * where, the deferred message lets (once per record), the other element lets. True when the row goes on.
   */
  private gate(s: Scope, element: number, run: RecordRun): true | Outcome | typeof SKIP | typeof HALT {
    const where = this.plan.where;
    if (where) {
      for (const plan of this.plan.whereLets) {
        const v = this.evaluate(plan, s, element, run);
        if (v === DROP || v === DEAD) return v;
        s.vars[plan.slot] = v;
      }
      const keep = this.keep(where, this.evaluate(where, s, element, run), element, run);
      if (keep !== true) return keep;
      if (!run.deferredDone) {
        run.deferredDone = true;
        for (const plan of this.plan.deferredMessageLets) {
          const v = this.evaluate(plan, s, -1, run);
          if (v === DROP || v === DEAD) return HALT;
          s.vars[plan.slot] = v;
        }
      }
    }
    for (const plan of this.plan.elementLets) {
      const v = this.evaluate(plan, s, element, run);
      if (v === DROP || v === DEAD) return v;
      s.vars[plan.slot] = v;
    }
    return true;
  }

  // As gate(), awaiting JSONata lets, then the JSONata fields, for row() to use.
  private async resolveAsync(
    s: Scope,
    element: number,
    run: RecordRun,
  ): Promise<Map<ValuePlan, unknown> | Outcome | typeof SKIP | typeof HALT> {
    const resolved = new Map<ValuePlan, unknown>();
    const where = this.plan.where;
    if (where) {
      for (const plan of this.plan.whereLets) {
        const v = await this.evaluateAsync(plan, s, element, run);
        if (v === DROP || v === DEAD) return v;
        s.vars[plan.slot] = v;
      }
      const keep = this.keep(where, this.evaluate(where, s, element, run), element, run);
      if (keep !== true) return keep;
      if (!run.deferredDone) {
        run.deferredDone = true;
        for (const plan of this.plan.deferredMessageLets) {
          const v = await this.evaluateAsync(plan, s, -1, run);
          if (v === DROP || v === DEAD) return HALT;
          s.vars[plan.slot] = v;
        }
      }
    }
    for (const plan of this.plan.elementLets) {
      const v = await this.evaluateAsync(plan, s, element, run);
      if (v === DROP || v === DEAD) return v;
      s.vars[plan.slot] = v;
    }
    for (const plan of this.plan.fields) {
      if (plan.async) resolved.set(plan, await this.evaluateAsync(plan, s, element, run));
    }
    return resolved;
  }

  /** Checks the record against its contract; returns the scope to map it in, or null when it is rejected. */
  private begin(record: unknown, meta: MappingMeta, run: RecordRun): Scope | null {
    if (!this.checkSource(record, run)) return null;
    return { root: record, cur: record, meta, vars: new Array(this.plan.varCount) };
  }

  // Flags overwrite fields after all fields are set (the template already holds the lineage columns).
  private seal(row: Record<string, unknown>, run: RecordRun): MappedRow {
    if (run.flags) for (const plan of run.flags) for (const [name, value] of plan.flag!) row[name] = value;
    return row as MappedRow;
  }

  private keep(where: ValuePlan, v: unknown, element: number, run: RecordRun): true | Outcome | typeof SKIP {
    if (v === true) return true;
    if (v === DROP || v === DEAD) return v;
    if (v === false || v === null || v === undefined) return SKIP;
    const fault = new ExpressionFault(
      MappingErrorCode.NOT_A_BOOLEAN,
      `where must be true or false, got ${describeValue(v)}`,
      0,
    );
    const outcome = this.fail(where, fault, element, run);
    return outcome === DROP || outcome === DEAD ? outcome : SKIP;
  }

  private evaluate(plan: ValuePlan, s: Scope, element: number, run: RecordRun): unknown {
    try {
      const v = plan.evaluate(s);
      return v === undefined ? null : v;
    } catch (e) {
      return this.fail(plan, e, element, run);
    }
  }

  private async evaluateAsync(plan: ValuePlan, s: Scope, element: number, run: RecordRun): Promise<unknown> {
    if (!plan.async) return this.evaluate(plan, s, element, run);
    try {
      const v = await plan.evaluate(s);
      return v === undefined ? null : v;
    } catch (e) {
      return this.fail(plan, e, element, run);
    }
  }

  // NaN and ±Infinity would reach facts as 'NaN' or fail the load; they are the field's error instead.
  private notFinite(plan: ValuePlan, v: number, element: number, run: RecordRun): unknown {
    const fault = new ExpressionFault(
      MappingErrorCode.NOT_FINITE,
      `the value is ${v}, which cannot be stored; NaN and ±Infinity come from overflow or invalid arithmetic (e.g. to_number("1e999"))`,
      0,
    );
    return this.fail(plan, fault, element, run);
  }

  /**
   * Applies on_error; returns the value to use, or DROP / DEAD. Anything not an ExpressionFault is not
   * the expression's doing (a stack overflow, a bug): it becomes a RecordFailure for the whole record.
   */
  private fail(plan: ValuePlan, e: unknown, element: number, run: RecordRun): unknown {
    const where = element >= 0 ? ` (element ${element})` : '';
    const label = plan.role === 'where' ? 'where' : `${plan.role} '${plan.name}'`;
    if (!(e instanceof ExpressionFault)) {
      throw new RecordFailure(e, `evaluating ${label}${where}`, {
        location: plan.locate(0),
        field: plan.role === 'where' ? undefined : plan.name,
        element: element >= 0 ? element : undefined,
      });
    }
    const error = new MappingError(e.code, `${label}${where}: ${e.message}`, {
      location: plan.locate(e.pos),
      mappingId: this.id,
      mappingVersion: this.version,
      field: plan.role === 'where' ? undefined : plan.name,
      element: element >= 0 ? element : undefined,
      policy: plan.onError,
    });
    switch (plan.onError) {
      case 'fail_batch':
        throw error;
      case 'dead_letter':
        run.deadLetter = error;
        report(run, error);
        return DEAD;
      case 'drop_row':
        report(run, error);
        return DROP;
      case 'default':
        report(run, error);
        return plan.fallback;
      case 'null_and_flag':
        report(run, error);
        if (plan.flag) {
          run.flags ??= [];
          run.flags.push(plan);
        }
        return null;
    }
  }

  /**
   * Turns anything thrown while mapping one record into that record's dead letter (RECORD_FAILED), keeping
   * what was reported before. Only fail_batch errors go on: they mean the whole batch must be replayed.
   */
  private contain(e: unknown, run: RecordRun): MapResult {
    if (e instanceof MappingError && e.policy === 'fail_batch') throw e;
    const failure = e instanceof RecordFailure ? e : null;
    const cause = failure ? failure.cause : e;
    const reason = describeCause(cause);
    const hint = /call stack/i.test(reason) ? ' (the payload is probably nested too deeply)' : '';
    const error = new MappingError(
      MappingErrorCode.RECORD_FAILED,
      `mapping ${this.id} v${this.version} failed on this record: ${reason} while ${failure?.during ?? 'mapping it'}${hint}; the record is dead-lettered, the rest of the batch goes on`,
      {
        location: failure?.location,
        mappingId: this.id,
        mappingVersion: this.version,
        field: failure?.field,
        element: failure?.element,
        policy: 'dead_letter',
        cause,
      },
    );
    run.deadLetter = error;
    report(run, error);
    return finish(run, NO_ROWS);
  }

  private error(code: MappingError['code'], detail: string, policy: 'dead_letter' | 'warn'): MappingError {
    return new MappingError(code, detail, {
      location: this.plan.contractLocation,
      mappingId: this.id,
      mappingVersion: this.version,
      policy,
    });
  }
}

function newRun(): RecordRun {
  return { errors: null, deadLetter: null, flags: null, parents: null, deferredDone: false };
}

function finish(run: RecordRun, rows: MappedRow[], rowElements: number[] = NO_ELEMENTS): MapResult {
  return { rows, rowElements, errors: run.errors ?? NO_ERRORS, deadLetter: run.deadLetter };
}

// The message of whatever was thrown; a thrown value whose message cannot be read is still reported.
function describeCause(cause: unknown): string {
  try {
    return ensureError(cause).message || String(cause);
  } catch {
    return 'an unreadable error';
  }
}

function report(run: RecordRun, error: MappingError): void {
  run.errors ??= [];
  run.errors.push(error);
}
