import { readFileSync, watch } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  type CompiledMapping,
  didYouMean,
  loadMappingFile,
  loadMappings,
  type MappingError,
  MappingInvalidError,
  type MappingMeta,
  type MappingTestReport,
  META_KEYS,
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
          warnings: loaded.mappings.flatMap((m) => m.warnings.map((w) => w.toJSON())),
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
    for (const w of m.warnings) write(`  ⚠ ${formatError(w)}`);
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

export interface RunOptions {
  /** The payload as JSON text, or `@file` to read it from a file. */
  payload: string;
  /** `key=value` pairs for $meta; `headers.<name>=value` sets a header. */
  meta?: string[];
  json?: boolean;
}

/**
 * `iot-hub mappings run <file> --payload <json|@file> [--meta k=v]`: maps one payload with one mapping file
 * and prints whether it routes (source.match), the rows, the flagged errors and the dead letter. Returns the
 * exit code: 0 when the payload maps without a dead letter, 1 when it is dead-lettered, 2 when the mapping
 * file or the arguments are wrong (each problem printed as file:line:col).
 */
export async function runMapping(file: string, options: RunOptions, write: WriteLine): Promise<number> {
  let mapping: CompiledMapping;
  let payload: unknown;
  let meta: MappingMeta;
  try {
    mapping = loadMappingFile(file);
    payload = readPayload(options.payload);
    meta = parseMeta(options.meta ?? []);
  } catch (e) {
    const errors = e instanceof MappingInvalidError ? e.errors : null;
    if (!errors && !(e instanceof RunArgumentError)) throw e;
    for (const line of errors ? errors.map(formatError) : [(e as Error).message]) write(`✗ ${line}`);
    return 2;
  }
  const routed = mapping.matches(payload, meta);
  const result = await mapping.mapAsync(payload, meta);
  const flagged = result.errors.filter((e) => e !== result.deadLetter);
  if (options.json) {
    write(
      JSON.stringify(
        {
          mapping: { file: mapping.file, id: mapping.id, version: mapping.version },
          routed,
          rows: result.rows,
          rowElements: result.rowElements,
          flagged: flagged.map((e) => e.toJSON()),
          deadLetter: result.deadLetter?.toJSON() ?? null,
        },
        null,
        2,
      ),
    );
    return result.deadLetter ? 1 : 0;
  }
  write(`${mapping.file}  ${mapping.id} v${mapping.version}`);
  if (!routed) {
    write(
      `  source.match is false for this payload${meta.topic === undefined ? '' : ` on topic ${meta.topic}`}: the hub would not route it here; mapped anyway`,
    );
  }
  write(`rows (${result.rows.length}):`);
  result.rows.forEach((row, i) => {
    const element = result.rowElements[i] ?? -1;
    write(`  ${element >= 0 ? `[element ${element}] ` : ''}${JSON.stringify(row)}`);
  });
  if (flagged.length) {
    write(`flagged (${flagged.length}):`);
    for (const e of flagged) write(`  ${e.policy ?? 'error'}: ${e.code}: ${e.message}`);
  }
  if (result.deadLetter) write(`dead letter: ${result.deadLetter.code}: ${result.deadLetter.message}`);
  return result.deadLetter ? 1 : 0;
}

/**
 * `mappings run --watch`: runs once, then again whenever the mapping file (or the @payload file) changes.
 * Resolves when `signal` aborts.
 */
export async function watchMapping(
  file: string,
  options: RunOptions,
  write: WriteLine,
  signal: AbortSignal,
): Promise<void> {
  const files = [file, ...(options.payload.startsWith('@') ? [options.payload.slice(1)] : [])];
  let pending: NodeJS.Timeout | null = null;
  let running = Promise.resolve();
  const rerun = () => {
    // Editors save in several writes; run once they settle.
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => {
      running = running.then(async () => {
        write(`--- ${new Date().toISOString()} ---`);
        await runMapping(file, options, write);
      });
    }, 100);
  };
  // Watch the folders: editors that save by renaming a new file over the old one end a watch on the file.
  const watchers = files.map((f) =>
    watch(path.dirname(f), { signal }, (_event, name) => {
      if (name === path.basename(f)) rerun();
    }),
  );
  await runMapping(file, options, write);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (pending) clearTimeout(pending);
  for (const w of watchers) w.close();
  await running;
}

class RunArgumentError extends Error {}

function readPayload(text: string): unknown {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (e) {
      throw new RunArgumentError(`--payload ${text}: cannot read the file (${(e as Error).message})`);
    }
  }
  try {
    return JSON.parse(source);
  } catch (e) {
    throw new RunArgumentError(
      `--payload: not JSON (${(e as Error).message}); pass a JSON text in quotes or @file.json`,
    );
  }
}

const NUMERIC_META = new Set(['partition', 'timestamp', 'source_ts_ms']);

function parseMeta(pairs: readonly string[]): MappingMeta {
  const meta: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    const value = pair.slice(eq + 1);
    if (key.startsWith('headers.') && key.length > 'headers.'.length) {
      meta.headers = { ...(meta.headers as Record<string, string>), [key.slice('headers.'.length)]: value };
      continue;
    }
    if (!META_KEYS.has(key)) {
      throw new RunArgumentError(
        `--meta ${pair}: ${key ? `unknown key '${key}'${didYouMean(key, META_KEYS)}` : 'expected key=value'}; keys: ${[...META_KEYS].filter((k) => k !== 'headers').join(', ')}, headers.<name>`,
      );
    }
    if (NUMERIC_META.has(key)) {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n))
        throw new RunArgumentError(`--meta ${pair}: ${key} must be a number`);
      meta[key] = n;
    } else {
      meta[key] = value;
    }
  }
  return meta as MappingMeta;
}

/** Registers `mappings validate`, `mappings test` and `mappings run` on the iot-hub program (src/cli/index.ts). */
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
  mappings
    .command('run')
    .description('map one payload with one mapping file: print the rows, flagged errors and dead letter')
    .argument('<file>', 'the mapping file')
    .requiredOption('--payload <json|@file>', 'the payload, as JSON text or @file.json')
    .option('--meta <key=value...>', '$meta values (topic, key, partition, headers.<name>, ...)', [])
    .option('--json', 'machine-readable output')
    .option('--watch', 're-run whenever the mapping file or the @payload file is saved (Ctrl-C stops)')
    .action(async (file: string, options: RunOptions & { watch?: boolean }) => {
      if (!options.watch) {
        process.exitCode = await runMapping(file, options, console.log);
        return;
      }
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      await watchMapping(file, options, console.log, stop.signal);
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
