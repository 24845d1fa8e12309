import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadYamlFile } from '../../config/index.ts';

/** The repository's semantic model folder (schema/semantic), whatever the working directory. */
export const defaultSemanticDir = fileURLToPath(new URL('../../../schema/semantic/', import.meta.url));
const schemaFile = fileURLToPath(new URL('../../../schema/semantic.schema.json', import.meta.url));

let cubeSchema: object | null = null;

export type Granularity = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';
/** Finest first: a grain can serve any coarser one. */
export const granularityOrder: readonly Granularity[] = [
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'quarter',
  'year',
];

/** One cube file (schema/semantic/*.yaml), as its JSON Schema (schema/semantic.schema.json) describes it. */
export interface CubeSpec {
  cube: string;
  title?: string;
  description?: string;
  table: string;
  rollup?: {
    table: string;
    time_column: string;
    grain: 'hour' | 'day';
    /** Coarser tables with the same columns; the first carrying every join a question needs serves it. */
    aggregates?: { table: string; joins: string[] }[];
  };
  time_dimension?: { name: string; column: string; granularities: Granularity[] };
  joins?: Record<string, { table: string; on: string }>;
  measures: Record<
    string,
    { description?: string; type?: 'number' | 'integer'; sql?: string; rollup?: string }
  >;
  dimensions?: Record<string, { description?: string; sql: string; join?: string }>;
  segments?: Record<string, { description?: string; sql: string; rollup?: string; join?: string }>;
  row_filter?: { sites?: { sql: string; join?: string } };
  sql_visible_to?: string[];
}

export interface Cube extends CubeSpec {
  file: string;
  /** The joins each member needs (its own `join`, and any join named in its SQL). */
  joinsOf(sql: string, declared?: string): string[];
}

export interface SemanticModel {
  cubes: Map<string, Cube>;
}

/**
 * Loads every cube file of `dir`, validated against the JSON Schema and checked across members: joins named by
 * members exist, and a cube without a rollup has raw SQL for every measure. Errors name the file and what to fix.
 */
export function loadSemanticModel(dir: string = defaultSemanticDir): SemanticModel {
  // One object for the process: the validator caches compiled schemas by their $id.
  cubeSchema ??= JSON.parse(readFileSync(schemaFile, 'utf8')) as object;
  const schema = cubeSchema;
  const cubes = new Map<string, Cube>();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => path.join(dir, f));
  for (const file of files) {
    const spec = loadYamlFile<CubeSpec>(file, schema).value;
    const cube = checkCube(spec, file);
    const other = cubes.get(cube.cube);
    if (other)
      throw new ConfigError(`${file}: cube '${cube.cube}' is already defined in ${other.file}; rename one.`);
    cubes.set(cube.cube, cube);
  }
  if (cubes.size === 0)
    throw new ConfigError(`${dir}: no cube files (*.yaml); the metrics API needs at least one.`);
  return { cubes };
}

function checkCube(spec: CubeSpec, file: string): Cube {
  const joins = spec.joins ?? {};
  const joinNames = Object.keys(joins);
  const joinsOf = (sql: string, declared?: string): string[] => {
    const used = new Set<string>();
    if (declared) used.add(declared);
    for (const name of joinNames) if (new RegExp(`\\b${name}\\.`).test(sql)) used.add(name);
    return [...used];
  };
  const where = `${file} (cube ${spec.cube})`;
  const checkJoin = (member: string, join: string | undefined) => {
    if (join !== undefined && !(join in joins))
      throw new ConfigError(
        `${where}: ${member} names join '${join}', which is not under joins:; declared: ${joinNames.join(', ') || 'none'}`,
      );
  };
  for (const [name, m] of Object.entries(spec.measures)) {
    if (m.sql === undefined && m.rollup === undefined)
      throw new ConfigError(
        `${where}: measure ${name} needs sql: (an aggregate over ${spec.table}) or rollup:`,
      );
    if (m.sql === undefined && !spec.rollup)
      throw new ConfigError(
        `${where}: measure ${name} has only a rollup expression, but the cube has no rollup:; add sql:`,
      );
  }
  for (const [name, d] of Object.entries(spec.dimensions ?? {})) checkJoin(`dimension ${name}`, d.join);
  for (const [name, s] of Object.entries(spec.segments ?? {})) checkJoin(`segment ${name}`, s.join);
  checkJoin('row_filter.sites', spec.row_filter?.sites?.join);
  for (const a of spec.rollup?.aggregates ?? [])
    for (const j of a.joins) checkJoin(`rollup aggregate ${a.table}`, j);
  const names = [
    ...Object.keys(spec.measures),
    ...Object.keys(spec.dimensions ?? {}),
    ...(spec.time_dimension ? [spec.time_dimension.name] : []),
  ];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup)
    throw new ConfigError(
      `${where}: '${dup}' is both a measure and a dimension; members need distinct names.`,
    );
  return { ...spec, file, joinsOf };
}
