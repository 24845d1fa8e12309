import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import pg from 'pg';
import { loadConfig } from '../config/index.ts';
import {
  type CheckResult,
  defaultContractsDir,
  type ExportResult,
  exportContracts,
  graphqlColumnKnowledge,
  loadContracts,
  localServer,
  runContractChecks,
  semanticDescriptions,
} from '../contracts/index.ts';
import { createPool, withDatabase } from '../db/index.ts';
import { fieldColumns, readSchemaFiles } from '../graphql/index.ts';
import { migrateDatabase } from '../warehouse/index.ts';
import type { WriteLine } from './tickets.ts';

// `iot-hub contracts export|test` (docs/data-products.md).

const semanticDir = fileURLToPath(new URL('../../schema/semantic/', import.meta.url));

/** What the export derives classifications and descriptions from: the GraphQL schema and the semantic model. */
export function contractSources(): Parameters<typeof exportContracts>[0]['sources'] {
  const graphql = graphqlColumnKnowledge(
    readSchemaFiles().map(([, text]) => text),
    fieldColumns,
  );
  const cubes = readdirSync(semanticDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => readFileSync(path.join(semanticDir, f), 'utf8'));
  // Where both describe a column, the semantic model's words win: they were written for BI readers.
  const descriptions = new Map([...graphql.descriptions, ...semanticDescriptions(cubes)]);
  return { classifications: graphql.classifications, descriptions };
}

/**
 * `contracts export`: rewrites the derived parts of the contracts from the migrated schema of `databaseUrl` (or of
 * a scratch database migrated for the purpose, dropped afterwards). With `check`, writes nothing and returns 1 when
 * a contract differs from the migrations, naming each difference and whether it breaks consumers.
 */
export async function exportContractsCommand(
  o: { databaseUrl: string; dir: string; tables: string[]; check?: boolean; scratch?: boolean },
  write: WriteLine,
): Promise<number> {
  let url = o.databaseUrl;
  const scratch = o.scratch ? `iot_hub_contracts_${process.pid}` : null;
  if (scratch) {
    url = withDatabase(o.databaseUrl, scratch);
    await migrateDatabase(url, 'up');
  }
  const db = createPool(url, { max: 2, name: 'iot-hub-contracts' });
  try {
    const existing = loadContracts(o.dir).flatMap((c) => c.contract.schema.map((s) => s.name));
    const results = await exportContracts({
      db,
      dir: o.dir,
      tables: [...new Set([...existing, ...o.tables])],
      sources: contractSources(),
      server: localServer(o.databaseUrl),
      check: o.check,
    });
    return reportExport(results, Boolean(o.check), write);
  } finally {
    await db.end();
    if (scratch) await dropDatabase(o.databaseUrl, scratch);
  }
}

function reportExport(results: ExportResult[], check: boolean, write: WriteLine): number {
  for (const r of results) {
    const state = !r.changed ? 'up to date' : check ? 'out of date' : 'written';
    write(`${r.id.padEnd(26)} ${state}  ${path.relative(process.cwd(), r.file)}`);
    for (const d of r.drift)
      write(`  ${d.breaking ? 'BREAKING' : 'change  '} ${d.kind}: ${d.element}: ${d.message}`);
  }
  const stale = results.filter((r) => r.changed);
  if (check && stale.length > 0) {
    write(
      `${stale.length} contract(s) differ from the migrations: run iot-hub contracts export and review the diff`,
    );
    return 1;
  }
  return 0;
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * `contracts test [id]`: every check of the contracts (or of one) against the warehouse at `databaseUrl`, as a
 * table; returns 1 when any check failed or could not run, 0 otherwise. An unknown id is an error naming the ids.
 */
export async function testContractsCommand(
  o: { databaseUrl: string; dir: string; id?: string; json?: boolean },
  write: WriteLine,
): Promise<number> {
  const all = loadContracts(o.dir);
  const chosen = o.id ? all.filter((c) => c.contract.id === o.id) : all;
  if (chosen.length === 0)
    throw new Error(
      o.id
        ? `no data contract '${o.id}' in ${o.dir}; known: ${all.map((c) => c.contract.id).join(', ')}`
        : `no *.odcs.yaml files in ${o.dir}; run iot-hub contracts export <table>`,
    );
  const db = createPool(o.databaseUrl, { max: 2, name: 'iot-hub-contracts' });
  try {
    const results: CheckResult[] = [];
    for (const c of chosen) results.push(...(await runContractChecks(db, c.contract)));
    if (o.json) write(JSON.stringify(results));
    else for (const line of checkTable(results)) write(line);
    return results.some((r) => r.outcome === 'failed' || r.outcome === 'error') ? 1 : 0;
  } finally {
    await db.end();
  }
}

/** The results as `datacontract test` prints them: one row per check, then a summary line. */
export function checkTable(results: readonly CheckResult[]): string[] {
  const rows = results.map((r) => [
    r.outcome,
    r.product,
    r.element,
    r.check,
    r.observed === null ? '' : String(Math.round(r.observed * 1000) / 1000),
    r.outcome === 'passed' ? r.expected : r.message || r.expected,
  ]);
  const head = ['RESULT', 'PRODUCT', 'ELEMENT', 'CHECK', 'VALUE', 'DETAILS'];
  const widths = head.map((h, i) => Math.min(40, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const count = (o: string) => results.filter((r) => r.outcome === o).length;
  return [
    line(head),
    ...rows.map(line),
    `${count('passed')} passed, ${count('failed')} failed, ${count('error')} errors, ${count('skipped')} skipped`,
  ];
}

/** Registers `contracts export|test` on the iot-hub program (src/cli/index.ts). */
export function registerContractsCommand(program: Command): void {
  const contracts = program
    .command('contracts')
    .description('data contracts (ODCS v3) of the warehouse data products (docs/data-products.md)');
  const databaseUrl = (url?: string) => url ?? loadConfig({ file: program.opts().config }).database.url;
  contracts
    .command('export')
    .description(
      'rewrite the derived parts of the contracts from the migrated schema, GraphQL policy and semantic model',
    )
    .argument(
      '[tables...]',
      'tables of dw to write a new contract for (existing contracts are always exported)',
    )
    .option('--dir <dir>', 'contracts folder', defaultContractsDir)
    .option('--database-url <url>', 'migrated database to read (default: the configured database)')
    .option('--scratch', 'migrate a scratch database on the same server and read that instead')
    .option('--check', 'write nothing; exit 1 when a contract differs from the migrations')
    .action(
      async (
        tables: string[],
        o: { dir: string; databaseUrl?: string; scratch?: boolean; check?: boolean },
      ) => {
        process.exitCode = await exportContractsCommand(
          { ...o, databaseUrl: databaseUrl(o.databaseUrl), tables },
          console.log,
        );
      },
    );
  contracts
    .command('test')
    .description('run every contract check against the live warehouse; exit 1 on a failure')
    .argument('[id]', 'one data product (default: all)')
    .option('--dir <dir>', 'contracts folder', defaultContractsDir)
    .option('--database-url <url>', 'warehouse to check (default: the configured database)')
    .option('--json', 'the results as one JSON array')
    .action(async (id: string | undefined, o: { dir: string; databaseUrl?: string; json?: boolean }) => {
      process.exitCode = await testContractsCommand(
        { ...o, id, databaseUrl: databaseUrl(o.databaseUrl) },
        console.log,
      );
    });
}
