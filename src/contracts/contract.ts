import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { validateYaml } from '../config/index.ts';

// The data contracts of the warehouse's data products (docs/data-products.md): one Open Data Contract Standard v3
// file per product in contracts/, validated against schema/odcs-v3.schema.json (the rules of the standard the
// hub uses). The types below are that subset.

/** contracts/ in the repository. */
export const defaultContractsDir = fileURLToPath(new URL('../../contracts/', import.meta.url));
const schemaFile = fileURLToPath(new URL('../../schema/odcs-v3.schema.json', import.meta.url));
const odcsSchema = JSON.parse(readFileSync(schemaFile, 'utf8')) as object;

export type Classification = 'PUBLIC' | 'OPERATIONAL' | 'CONFIDENTIAL' | 'PII';
export type LogicalType =
  | 'string'
  | 'date'
  | 'timestamp'
  | 'time'
  | 'number'
  | 'integer'
  | 'object'
  | 'array'
  | 'boolean';

export interface CustomProperty {
  property: string;
  value: unknown;
  description?: string;
}

/** An ODCS quality rule: a library metric or a SQL query whose one value is compared with an operator. */
export interface QualityRule {
  name: string;
  description?: string;
  type: 'library' | 'sql' | 'text' | 'custom';
  metric?: 'nullValues' | 'missingValues' | 'invalidValues' | 'duplicateValues' | 'rowCount';
  query?: string;
  unit?: 'rows' | 'percent';
  dimension?: string;
  severity?: string;
  mustBe?: unknown;
  mustNotBe?: unknown;
  mustBeGreaterThan?: number;
  mustBeGreaterOrEqualTo?: number;
  mustBeLessThan?: number;
  mustBeLessOrEqualTo?: number;
  mustBeBetween?: [number, number];
  mustNotBeBetween?: [number, number];
  customProperties?: CustomProperty[];
}

export interface SchemaProperty {
  name: string;
  logicalType: LogicalType;
  physicalType: string;
  description?: string;
  required?: boolean;
  unique?: boolean;
  primaryKey?: boolean;
  primaryKeyPosition?: number;
  partitioned?: boolean;
  partitionKeyPosition?: number;
  classification?: Classification;
  criticalDataElement?: boolean;
  tags?: string[];
  quality?: QualityRule[];
  customProperties?: CustomProperty[];
}

export interface SchemaObject {
  name: string;
  physicalName?: string;
  physicalType?: string;
  logicalType?: 'object';
  description?: string;
  dataGranularityDescription?: string;
  tags?: string[];
  properties: SchemaProperty[];
  quality?: QualityRule[];
  customProperties?: CustomProperty[];
}

export interface SlaProperty {
  id?: string;
  property: string;
  value: string | number | boolean | null;
  unit?: string;
  element?: string;
  driver?: string;
  description?: string;
}

export interface Server {
  server: string;
  type: string;
  environment?: string;
  description?: string;
  host?: string;
  port?: number;
  database?: string;
  schema?: string;
}

export interface DataContract {
  apiVersion: string;
  kind: 'DataContract';
  id: string;
  name?: string;
  version: string;
  status: 'proposed' | 'draft' | 'active' | 'deprecated' | 'retired';
  domain?: string;
  tags?: string[];
  description?: { purpose?: string; usage?: string; limitations?: string };
  schema: SchemaObject[];
  servers?: Server[];
  team?: {
    name: string;
    description?: string;
    members?: { username: string; name?: string; role?: string }[];
  };
  support?: { channel: string; url?: string; tool?: string; scope?: string; description?: string }[];
  slaProperties?: SlaProperty[];
  customProperties?: CustomProperty[];
}

/** A contract and the file it was read from. */
export interface ContractFile {
  file: string;
  contract: DataContract;
}

/**
 * Parses and validates one contract; throws ConfigError with one `file:line:col: path: problem` line per
 * problem, and a sentence when the file name and the id disagree (the REST path and GraphQL use the id).
 */
export function parseContract(text: string, file: string): DataContract {
  const contract = validateYaml<DataContract>(text, file, odcsSchema).value;
  const expected = path.basename(file).replace(/\.odcs\.ya?ml$/, '');
  if (expected !== path.basename(file) && expected !== contract.id)
    throw new Error(
      `${file}: id '${contract.id}' differs from the file name; name the file ${contract.id}.odcs.yaml`,
    );
  return contract;
}

/** Every `*.odcs.yaml` in `dir`, by id; an empty list for an empty folder. Throws on the first invalid file. */
export function loadContracts(dir = defaultContractsDir): ContractFile[] {
  return readdirSync(dir)
    .filter((f) => /\.odcs\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      return { file, contract: parseContract(readFileSync(file, 'utf8'), file) };
    });
}

/** The file of the contract with `id` in `dir`. */
export function contractFileName(dir: string, id: string): string {
  return path.join(dir, `${id}.odcs.yaml`);
}

/** The contract as YAML, keys in the order written; long SQL stays readable as block text. */
export function contractYaml(contract: DataContract, header = ''): string {
  return header + stringify(contract, { lineWidth: 0, blockQuote: 'literal' });
}

/** The team member with role owner, else the team's name; null when the contract names neither. */
export function contractOwner(contract: DataContract): string | null {
  return contract.team?.members?.find((m) => m.role === 'owner')?.username ?? contract.team?.name ?? null;
}
