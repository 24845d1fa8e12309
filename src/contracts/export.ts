import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type pg from 'pg';
import { readCatalog } from './catalog.ts';
import { contractFileName, contractYaml, type DataContract, parseContract, type Server } from './contract.ts';
import { type DerivationSources, deriveContract, type MetricRange } from './derive.ts';
import { contractDrift, type Drift } from './drift.ts';

export interface ExportOptions {
  /** A migrated database: the configured warehouse or a scratch one. */
  db: pg.Pool;
  dir: string;
  /** Tables to export: each existing contract's tables, plus these (new contracts). */
  tables: readonly string[];
  sources: Omit<DerivationSources, 'metricRanges'>;
  server: Server;
  /** Only compare, write nothing (`contracts export --check`). */
  check?: boolean;
  schema?: string;
}

export interface ExportResult {
  id: string;
  file: string;
  /** How the file differed from the migrated schema before the export. */
  drift: Drift[];
  /** The file's text changed (written, or would be with check). */
  changed: boolean;
}

const header =
  '# yaml-language-server: $schema=../schema/odcs-v3.schema.json\n' +
  '# Data contract (ODCS v3) of a hub data product: docs/data-products.md. `iot-hub contracts export` rewrites the\n' +
  '# schema section from the migrations; descriptions, team, support, objectives and quality rules are kept.\n';

/**
 * Derives and merges the contract of each table (one contract per table, id = table name) from the migrated
 * catalog in `db`, and writes the files that changed unless `check`. Throws a sentence naming a table that does
 * not exist in the database.
 */
export async function exportContracts(options: ExportOptions): Promise<ExportResult[]> {
  const schema = options.schema ?? 'dw';
  const catalog = await readCatalog(options.db, schema, options.tables);
  const missing = options.tables.filter((t) => !catalog.some((c) => c.name === t));
  if (missing.length > 0)
    throw new Error(
      `no table ${missing.map((t) => `${schema}.${t}`).join(', ')} in the database; migrate it first (iot-hub migrate)`,
    );
  const { rows } = await options.db.query<MetricRange>(
    `SELECT metric_code AS code, valid_min AS min, valid_max AS max, canonical_unit AS unit
     FROM ${schema}.dim_metric WHERE metric_sk <> -1 ORDER BY metric_sk`,
  );
  const sources: DerivationSources = { ...options.sources, metricRanges: rows };
  return catalog.map((table) => {
    const file = contractFileName(options.dir, table.name);
    const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
    const existing: DataContract | undefined = before === null ? undefined : parseContract(before, file);
    const object = existing?.schema.find((s) => s.name === table.name);
    const drift = object ? contractDrift(object, table) : [];
    const text = contractYaml(deriveContract(table, sources, options.server, existing), header);
    const changed = text !== before;
    if (changed && !options.check) writeFileSync(file, text);
    return { id: existing?.id ?? table.name, file, drift, changed };
  });
}
