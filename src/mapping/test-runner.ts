import { ensureError, MappingError, type SourceLocation } from './errors.ts';
import type { MappingMeta } from './expression/scope.ts';
import type { ErrorExpectation, TestSpec } from './mapping-spec.ts';
import { compareRows, diffRows } from './row-compare.ts';
import type { CompiledMapping, MapResult } from './types.ts';

export interface MappingTestResult {
  name: string;
  passed: boolean;
  location: SourceLocation;
  /** One line per difference (empty when passed). */
  problems: string[];
  /** Expected vs actual rows as a line diff ("- " expected, "+ " actual); empty when rows were not compared. */
  diff: string[];
}

export interface MappingTestReport {
  file: string;
  mappingId: string;
  mappingVersion: number;
  results: MappingTestResult[];
  passed: number;
  failed: number;
}

/**
 * Runs a mapping's inline tests (mappings/README.md, `tests:`). Each test feeds `input.payload` (and
 * `input.meta`) through the mapping and compares with `expected`: rows (listed fields, {approx, tol} for
 * floats), errors (in order; none when omitted), dead_letter, fail_batch, or routed. Never throws for a
 * failing test. Called by `iot-hub mappings test` and by the unit tests. A mapping without tests gives an
 * empty report.
 */
export async function runMappingTests(mapping: CompiledMapping): Promise<MappingTestReport> {
  const results: MappingTestResult[] = [];
  for (const { spec, location } of mapping.tests) {
    const { problems, diff } = await runOne(mapping, spec);
    results.push({ name: spec.name, passed: problems.length === 0, location, problems, diff });
  }
  const passed = results.filter((r) => r.passed).length;
  return {
    file: mapping.file,
    mappingId: mapping.id,
    mappingVersion: mapping.version,
    results,
    passed,
    failed: results.length - passed,
  };
}

async function runOne(
  mapping: CompiledMapping,
  test: TestSpec,
): Promise<{ problems: string[]; diff: string[] }> {
  const expected = test.expected;
  const meta = (test.input.meta ?? {}) as MappingMeta;
  const problems: string[] = [];
  const routed = mapping.matches(test.input.payload, meta);
  if (expected.routed !== undefined && expected.routed !== routed) {
    problems.push(`expected source.match to be ${expected.routed}, got ${routed}`);
  }
  if (!routed) {
    if (expected.routed === undefined)
      problems.push('source.match rejects this input; add routed: false if that is intended');
    return { problems, diff: [] };
  }

  let result: MapResult;
  try {
    result = await mapping.mapAsync(test.input.payload, meta);
  } catch (e) {
    const error = ensureError(e);
    if (!(error instanceof MappingError) || error.policy !== 'fail_batch') throw error;
    if (!expected.fail_batch) problems.push(`the batch failed unexpectedly: ${error.code} ${error.message}`);
    else problems.push(...compareError('fail_batch', expected.fail_batch, error));
    return { problems, diff: [] };
  }
  if (expected.fail_batch)
    problems.push(`expected the batch to fail with ${expected.fail_batch.code}, but it did not`);

  if (expected.dead_letter && !result.deadLetter) {
    problems.push(`expected a dead letter with ${expected.dead_letter.code}, but the record was mapped`);
  } else if (!expected.dead_letter && result.deadLetter) {
    problems.push(`unexpected dead letter: ${result.deadLetter.code} ${result.deadLetter.message}`);
  } else if (expected.dead_letter && result.deadLetter) {
    problems.push(...compareError('dead_letter', expected.dead_letter, result.deadLetter));
  }

  const errors = result.errors.filter((e) => e !== result.deadLetter);
  const wanted = expected.errors ?? [];
  if (wanted.length !== errors.length) {
    problems.push(
      `expected ${wanted.length} error(s), got ${errors.length}` +
        (errors.length ? `: ${errors.map((e) => `${e.code} ${e.message}`).join('; ')}` : ''),
    );
  }
  wanted.forEach((want, i) => {
    const got = errors[i];
    if (got) problems.push(...compareError(`errors[${i}]`, want, got));
  });

  let diff: string[] = [];
  if (expected.rows) {
    const rowProblems = compareRows(expected.rows, result.rows);
    problems.push(...rowProblems);
    if (rowProblems.length) diff = diffRows(expected.rows, result.rows);
  }
  return { problems, diff };
}

function compareError(label: string, want: ErrorExpectation, got: MappingError): string[] {
  const problems: string[] = [];
  const check = (what: string, expected: unknown, actual: unknown) => {
    if (expected !== undefined && expected !== actual) {
      problems.push(
        `${label}.${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual ?? null)}`,
      );
    }
  };
  check('code', want.code, got.code);
  check('field', want.field, got.field);
  check('element', want.element, got.element);
  check('message', want.message, got.detail);
  check('at', want.at, got.line === undefined ? undefined : `${got.line}:${got.col}`);
  return problems;
}
