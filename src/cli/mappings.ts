import type { Command } from 'commander';
import {
  type CompiledMapping,
  loadMappings,
  type MappingError,
  type MappingTestReport,
  runMappingTests,
} from '../mapping/index.ts';

/** Where the commands write; tests pass a collecting writer. */
export type WriteLine = (line: string) => void;

const DEFAULT_PATHS = ['mappings'];

/**
 * `iot-hub mappings validate [paths...]`: loads and compiles every mapping file (default: all of
 * mappings/), printing each problem as `file:line:col: CODE: message`. Returns the exit code: 0 when
 * every file is valid, 1 otherwise.
 */
export function validateMappings(paths: string[], json: boolean, write: WriteLine): number {
  const loaded = loadMappings(paths.length ? paths : DEFAULT_PATHS);
  if (json) {
    write(
      JSON.stringify(
        {
          files: loaded.files.length,
          mappings: loaded.mappings.map(describeMapping),
          errors: loaded.errors.map((e) => e.toJSON()),
        },
        null,
        2,
      ),
    );
    return loaded.errors.length ? 1 : 0;
  }
  for (const m of loaded.mappings) {
    write(
      `✓ ${m.file}  ${m.id} v${m.version} (${m.kind}, ${m.fieldNames.length} fields, ${m.tests.length} tests)`,
    );
  }
  for (const e of loaded.errors) write(`✗ ${formatError(e)}`);
  write(summary(loaded.files.length, loaded.mappings.length, loaded.errors.length));
  return loaded.errors.length ? 1 : 0;
}

/**
 * `iot-hub mappings test [paths...] [--json]`: runs every mapping's inline tests and prints each pass or
 * fail, with the differences and a diff of expected (-) against actual (+) rows. Returns the exit code:
 * 1 when any test fails or any file does not load, else 0.
 */
export async function testMappings(paths: string[], json: boolean, write: WriteLine): Promise<number> {
  const loaded = loadMappings(paths.length ? paths : DEFAULT_PATHS);
  const reports: MappingTestReport[] = [];
  for (const mapping of loaded.mappings) reports.push(await runMappingTests(mapping));
  const passed = reports.reduce((n, r) => n + r.passed, 0);
  const failed = reports.reduce((n, r) => n + r.failed, 0);
  const exitCode = failed > 0 || loaded.errors.length > 0 ? 1 : 0;
  if (json) {
    write(JSON.stringify({ passed, failed, reports, errors: loaded.errors.map((e) => e.toJSON()) }, null, 2));
    return exitCode;
  }
  for (const report of reports) {
    write(`${report.file} (${report.mappingId} v${report.mappingVersion})`);
    if (report.results.length === 0) write('  (no tests)');
    for (const result of report.results) {
      if (result.passed) {
        write(`  ✓ ${result.name}`);
        continue;
      }
      const at = result.location;
      write(`  ✗ ${result.name}  (${at.file}:${at.line}:${at.col})`);
      for (const problem of result.problems) write(`      ${problem}`);
      if (result.diff.length) {
        write('      rows (- expected, + actual):');
        for (const line of result.diff) write(`      ${line}`);
      }
    }
  }
  for (const e of loaded.errors) write(`✗ ${formatError(e)}`);
  write(
    `${passed} passed, ${failed} failed${loaded.errors.length ? `, ${loaded.errors.length} file error(s)` : ''}`,
  );
  return exitCode;
}

/** Registers `mappings validate` and `mappings test` on the iot-hub program (src/cli/index.ts). */
export function registerMappingsCommand(program: Command): void {
  const mappings = program
    .command('mappings')
    .description('validate mapping files and run their inline tests (default: every file under mappings/)');
  mappings
    .command('validate')
    .description('parse and compile mapping files; print every problem as file:line:col')
    .argument('[paths...]', 'mapping files or folders', [])
    .option('--json', 'machine-readable output')
    .action((paths: string[], options: { json?: boolean }) => {
      process.exitCode = validateMappings(paths, options.json === true, console.log);
    });
  mappings
    .command('test')
    .description('run the inline tests of mapping files; exits non-zero on any failure')
    .argument('[paths...]', 'mapping files or folders', [])
    .option('--json', 'machine-readable output')
    .action(async (paths: string[], options: { json?: boolean }) => {
      process.exitCode = await testMappings(paths, options.json === true, console.log);
    });
}

function formatError(e: MappingError): string {
  return e.at ? `${e.at}: ${e.code}: ${e.detail}` : `${e.code}: ${e.detail}`;
}

function describeMapping(m: CompiledMapping): Record<string, unknown> {
  return {
    file: m.file,
    id: m.id,
    version: m.version,
    kind: m.kind,
    fields: m.fieldNames,
    tests: m.tests.length,
  };
}

function summary(files: number, valid: number, errors: number): string {
  return `${files} file(s), ${valid} valid, ${errors} error(s)`;
}
