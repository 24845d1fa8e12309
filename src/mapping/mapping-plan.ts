import type { ExplodePlan } from './compile-explode.ts';
import type { SourceContract } from './contract/source-contract.ts';
import type { MappingError, OnErrorPolicy, SourceLocation } from './errors.ts';
import type { Evaluator } from './expression/scope.ts';
import type { MappingSpec } from './mapping-spec.ts';
import type { LookupDeclaration } from './types.ts';

/** One compiled `let` variable, field, or the `where` filter, with what to do when it fails. */
export interface ValuePlan {
  name: string;
  role: 'let' | 'field' | 'where';
  /** Returns a Promise only when `async` (a JSONata expression). */
  evaluate: Evaluator;
  async: boolean;
  onError: OnErrorPolicy;
  /** The value used under on_error: default. */
  fallback: unknown;
  /** Fields overwritten with literals when this value is flagged (null_and_flag). */
  flag: Array<[string, unknown]> | null;
  /** Variable slot for lets, -1 otherwise. */
  slot: number;
  /** Maps an offset in the expression text to file:line:col. */
  locate(pos: number): SourceLocation;
}

/** Everything the runner needs, produced once by compileMapping. */
export interface MappingPlan {
  spec: MappingSpec;
  file: string;
  contract: SourceContract | null;
  contractLocation: SourceLocation;
  match: Evaluator | null;
  explode: ExplodePlan | null;
  /** Message lets evaluated before explode: all of them, or with `where` only those where or explode reads. */
  messageLets: ValuePlan[];
  /** Message lets only kept rows need: evaluated once, at the first row where keeps. */
  deferredMessageLets: ValuePlan[];
  /** Element lets where reads, evaluated before it. */
  whereLets: ValuePlan[];
  /** The other element lets, evaluated for rows where keeps. */
  elementLets: ValuePlan[];
  where: ValuePlan | null;
  /** Fields in evaluation order: each after the fields it reads ($row.<field>). */
  fields: ValuePlan[];
  /** Fields in row order, as declared. */
  fieldNames: string[];
  /** Variable slots of $parent and $row, or -1 when nothing reads them. */
  parentSlot: number;
  rowSlot: number;
  varCount: number;
  async: boolean;
  lookups: LookupDeclaration[];
  lateData: { futureSkewMs: number | null; maxLatenessMs: number | null };
  onError: OnErrorPolicy;
  testLocations: SourceLocation[];
  /** Problems that do not stop the mapping (UNUSED_LET). */
  warnings: MappingError[];
}
