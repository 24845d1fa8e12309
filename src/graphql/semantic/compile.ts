import { didYouMean } from '../../mapping/index.ts';
import { type Cube, type Granularity, granularityOrder, type SemanticModel } from './model.ts';

export type FilterOperator =
  | 'equals'
  | 'notEquals'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'contains'
  | 'set'
  | 'notSet';

/** A metrics question, in the cube's qualified member names (`readings.avgValue`). */
export interface MetricsRequest {
  measures: readonly string[];
  dimensions?: readonly string[] | null;
  timeDimension?: {
    dimension: string;
    granularity?: Granularity | null;
    /** ISO 8601, inclusive. */
    from?: string | null;
    /** ISO 8601, exclusive. */
    to?: string | null;
  } | null;
  filters?: readonly { member: string; operator: FilterOperator; values?: readonly string[] | null }[] | null;
  segments?: readonly string[] | null;
  order?: readonly { member: string; direction: 'asc' | 'desc' }[] | null;
  limit?: number | null;
}

export interface MetricsColumn {
  name: string;
  kind: 'measure' | 'dimension' | 'time';
  type: 'number' | 'integer' | 'string' | 'time';
  description: string | null;
}

export interface CompiledMetricsQuery {
  cube: Cube;
  sql: string;
  params: unknown[];
  columns: MetricsColumn[];
  /** The answer reads the rollup table (or one of its aggregates) instead of the raw facts. */
  usedRollup: boolean;
  /** The table the answer reads. */
  table: string;
  /** Why the rollup could not serve the question (null when it did, or the cube has none). */
  rollupNote: string | null;
}

/** A question the model cannot answer; the message says what to ask instead. */
export class MetricsQueryError extends Error {
  readonly code = 'BAD_METRICS_QUERY';
  constructor(message: string) {
    super(message);
    this.name = 'MetricsQueryError';
  }
}

export const defaultLimit = 1000;
export const maxLimit = 10_000;
const factAlias = 'f';

/**
 * Compiles a metrics question into one parameterised SQL statement over one cube: the rollup table whenever every
 * measure, segment and the time grain allow it (hourly grain or coarser, a time range on whole hours), the raw
 * facts otherwise. Only model SQL and validated member names reach the text; every value is a parameter. The
 * principal's site filter (`sites`, null for all) is always applied.
 */
export function compileMetricsQuery(
  model: SemanticModel,
  request: MetricsRequest,
  access: { sites: readonly string[] | null },
): CompiledMetricsQuery {
  if (request.measures.length === 0 && (request.dimensions ?? []).length === 0)
    throw new MetricsQueryError(
      'ask for at least one measure or dimension, e.g. measures: ["readings.avgValue"]',
    );
  const members = [
    ...request.measures,
    ...(request.dimensions ?? []),
    ...(request.timeDimension ? [request.timeDimension.dimension] : []),
    ...(request.segments ?? []),
    ...(request.filters ?? []).map((f) => f.member),
  ];
  const cube = cubeOf(model, members);
  const measures = request.measures.map((m) => member(cube, m, 'measure'));
  const dimensions = (request.dimensions ?? []).map((d) => member(cube, d, 'dimension'));
  const segments = (request.segments ?? []).map((s) => member(cube, s, 'segment'));
  const time = request.timeDimension ? timeOf(cube, request.timeDimension) : null;

  const rollupNote = rollupRefusal(cube, measures, segments, time);
  const useRollup = rollupNote === null && cube.rollup !== undefined;
  const onlyRollup = measures.filter((m) => cube.measures[m]!.sql === undefined);
  if (!useRollup && onlyRollup.length > 0)
    throw new MetricsQueryError(
      `${onlyRollup.map((m) => `${cube.cube}.${m}`).join(', ')} can only be answered from the ${cube.rollup?.grain ?? 'hourly'} rollup, but ${rollupNote}`,
    );

  const params: unknown[] = [];
  const param = (value: unknown, cast: string) => {
    params.push(value);
    return `$${params.length}::${cast}`;
  };
  const fact = (sql: string) => sql.replaceAll('{fact}', factAlias);
  const joins = new Set<string>();
  const select: string[] = [];
  /** The expressions the answer is grouped by (dimensions, the time bucket). */
  const groupBy: string[] = [];
  const columns: MetricsColumn[] = [];
  const where: string[] = [];
  const having: string[] = [];

  for (const [i, d] of dimensions.entries()) {
    const spec = cube.dimensions![d]!;
    for (const j of cube.joinsOf(spec.sql, spec.join)) joins.add(j);
    select.push(`${fact(spec.sql)} AS ${quote(request.dimensions![i]!)}`);
    groupBy.push(fact(spec.sql));
    columns.push({
      name: request.dimensions![i]!,
      kind: 'dimension',
      type: 'string',
      description: spec.description ?? null,
    });
  }
  const timeColumn = useRollup ? cube.rollup!.time_column : cube.time_dimension?.column;
  if (time) {
    if (time.granularity) {
      // The rollup's own grain needs no truncation; the bucket is printed as ISO 8601 UTC (what a Date becomes in
      // JSON) once per output row, not parsed into a Date and printed again for every row.
      const bucket =
        useRollup && time.granularity === cube.rollup!.grain
          ? `${factAlias}.${timeColumn}`
          : `date_trunc('${time.granularity}', ${factAlias}.${timeColumn}, 'UTC')`;
      groupBy.push(bucket);
      select.push(
        `to_char(${bucket} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${quote(request.timeDimension!.dimension)}`,
      );
      columns.push({ name: request.timeDimension!.dimension, kind: 'time', type: 'time', description: null });
    }
    if (time.from !== null)
      where.push(`${factAlias}.${timeColumn} >= ${param(time.from.toISOString(), 'timestamptz')}`);
    if (time.to !== null)
      where.push(`${factAlias}.${timeColumn} < ${param(time.to.toISOString(), 'timestamptz')}`);
  }
  const groups = select.length;
  for (const [i, m] of measures.entries()) {
    const spec = cube.measures[m]!;
    const sql = useRollup ? spec.rollup! : spec.sql!;
    for (const j of cube.joinsOf(sql)) joins.add(j);
    select.push(`${fact(sql)} AS ${quote(request.measures[i]!)}`);
    columns.push({
      name: request.measures[i]!,
      kind: 'measure',
      type: spec.type ?? 'number',
      description: spec.description ?? null,
    });
  }
  for (const s of segments) {
    const spec = cube.segments![s]!;
    const sql = useRollup ? spec.rollup! : spec.sql;
    for (const j of cube.joinsOf(sql, spec.join)) joins.add(j);
    where.push(`(${fact(sql)})`);
  }
  for (const filter of request.filters ?? []) {
    const name = local(cube, filter.member);
    const isMeasure = name in cube.measures;
    if (!isMeasure && !(name in (cube.dimensions ?? {})))
      throw new MetricsQueryError(
        `filter on ${filter.member}: only measures and dimensions can be filtered (the time range goes in timeDimension)`,
      );
    let target: string;
    if (isMeasure) {
      if (!request.measures.includes(filter.member))
        throw new MetricsQueryError(
          `filter on measure ${filter.member}: ask for the measure too (measures: [...])`,
        );
      const spec = cube.measures[name]!;
      target = fact(useRollup ? spec.rollup! : spec.sql!);
    } else {
      const spec = cube.dimensions![name]!;
      for (const j of cube.joinsOf(spec.sql, spec.join)) joins.add(j);
      target = fact(spec.sql);
    }
    (isMeasure ? having : where).push(condition(target, filter, isMeasure, param));
  }
  if (access.sites !== null) {
    const rowFilter = cube.row_filter?.sites;
    if (!rowFilter)
      throw new MetricsQueryError(
        `cube ${cube.cube} has no row_filter.sites, so it cannot be answered for a principal limited to some sites`,
      );
    for (const j of cube.joinsOf(rowFilter.sql, rowFilter.join)) joins.add(j);
    where.push(`${fact(rowFilter.sql)} = ANY(${param([...access.sites], 'text[]')})`);
  }

  const selected = new Set(columns.map((c) => c.name));
  const order = (request.order ?? []).map((o) => {
    if (!selected.has(o.member))
      throw new MetricsQueryError(`order by ${o.member}: only requested members can order the answer`);
    return `${quote(o.member)} ${o.direction === 'desc' ? 'DESC' : 'ASC'} NULLS LAST`;
  });
  if (order.length === 0 && time?.granularity) order.push(`${quote(request.timeDimension!.dimension)} ASC`);
  // Then every group column, so the same question returns its rows in the same order (an ISO 8601 UTC text
  // sorts as its time does).
  if (groups > 0) order.push(positions(groups));

  const limit = request.limit ?? defaultLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    throw new MetricsQueryError(`limit must be an integer from 1 to ${maxLimit}, got ${limit}`);

  // The smallest table that can answer: the first aggregate of the rollup carrying every join used.
  const table = useRollup
    ? (cube.rollup!.aggregates?.find((a) => [...joins].every((j) => a.joins.includes(j)))?.table ??
      cube.rollup!.table)
    : cube.table;
  const joinSql = [...joins].map(
    (j) => `LEFT JOIN ${cube.joins![j]!.table} ${j} ON ${fact(cube.joins![j]!.on)}`,
  );
  const sql = [
    `SELECT ${select.join(', ')}`,
    `FROM ${table} ${factAlias}`,
    ...joinSql,
    where.length > 0 ? `WHERE ${where.join(' AND ')}` : null,
    groupBy.length > 0 ? `GROUP BY ${groupBy.join(', ')}` : null,
    having.length > 0 ? `HAVING ${having.join(' AND ')}` : null,
    order.length > 0 ? `ORDER BY ${order.join(', ')}` : null,
    `LIMIT ${param(limit, 'int')}`,
  ]
    .filter((line): line is string => line !== null)
    .join('\n');
  return {
    cube,
    sql,
    params,
    columns,
    usedRollup: useRollup,
    table,
    rollupNote: cube.rollup ? rollupNote : null,
  };
}

/** The one cube all members belong to. */
function cubeOf(model: SemanticModel, members: readonly string[]): Cube {
  const names = new Set<string>();
  for (const m of members) {
    const dot = m.indexOf('.');
    if (dot <= 0)
      throw new MetricsQueryError(
        `'${m}' is not a qualified member name; write <cube>.<member>, e.g. readings.avgValue (cubes: ${[...model.cubes.keys()].join(', ')})`,
      );
    names.add(m.slice(0, dot));
  }
  if (names.size > 1)
    throw new MetricsQueryError(
      `members of one question must come from one cube; this one names ${[...names].join(' and ')}`,
    );
  const name = [...names][0]!;
  const cube = model.cubes.get(name);
  if (!cube) throw new MetricsQueryError(`no cube '${name}'; cubes: ${[...model.cubes.keys()].join(', ')}`);
  return cube;
}

function local(cube: Cube, qualified: string): string {
  return qualified.slice(cube.cube.length + 1);
}

function member(cube: Cube, qualified: string, kind: 'measure' | 'dimension' | 'segment'): string {
  const name = local(cube, qualified);
  const pool =
    kind === 'measure'
      ? cube.measures
      : kind === 'dimension'
        ? (cube.dimensions ?? {})
        : (cube.segments ?? {});
  if (name in pool) return name;
  const known = Object.keys(pool).map((k) => `${cube.cube}.${k}`);
  throw new MetricsQueryError(
    `${qualified} is not a ${kind} of cube ${cube.cube}${didYouMean(qualified, known)}; ${kind}s: ${known.join(', ') || 'none'}`,
  );
}

interface TimeQuestion {
  granularity: Granularity | null;
  from: Date | null;
  to: Date | null;
}

function timeOf(cube: Cube, t: NonNullable<MetricsRequest['timeDimension']>): TimeQuestion {
  const spec = cube.time_dimension;
  if (!spec || local(cube, t.dimension) !== spec.name)
    throw new MetricsQueryError(
      `${t.dimension} is not the time dimension of cube ${cube.cube}${spec ? `; use ${cube.cube}.${spec.name}` : ' (it has none)'}`,
    );
  const granularity = t.granularity ?? null;
  if (granularity && !spec.granularities.includes(granularity))
    throw new MetricsQueryError(
      `${t.dimension} has no granularity ${granularity}; granularities: ${spec.granularities.join(', ')}`,
    );
  const instant = (value: string | null | undefined, what: string): Date | null => {
    if (value === null || value === undefined) return null;
    const d = new Date(value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || !Number.isFinite(d.getTime()))
      throw new MetricsQueryError(
        `timeDimension.${what} '${value}' is not an ISO 8601 time, e.g. 2026-11-30T00:00:00Z`,
      );
    return d;
  };
  const from = instant(t.from, 'from');
  const to = instant(t.to, 'to');
  if (from && to && from >= to)
    throw new MetricsQueryError('timeDimension.from must be before timeDimension.to');
  return { granularity, from, to };
}

/** Why the rollup cannot serve the question, or null when it can. */
function rollupRefusal(
  cube: Cube,
  measures: string[],
  segments: string[],
  time: TimeQuestion | null,
): string | null {
  const rollup = cube.rollup;
  if (!rollup) return 'the cube has no rollup';
  const raw = measures.filter((m) => cube.measures[m]!.rollup === undefined);
  if (raw.length > 0) return `measure ${raw.join(', ')} has no rollup expression`;
  const rawSegments = segments.filter((s) => cube.segments![s]!.rollup === undefined);
  if (rawSegments.length > 0) return `segment ${rawSegments.join(', ')} applies to raw readings only`;
  if (
    time?.granularity &&
    granularityOrder.indexOf(time.granularity) < granularityOrder.indexOf(rollup.grain)
  )
    return `granularity ${time.granularity} is finer than the rollup's ${rollup.grain}`;
  const grainMs = rollup.grain === 'hour' ? 3_600_000 : 86_400_000;
  for (const [what, at] of [
    ['from', time?.from],
    ['to', time?.to],
  ] as const)
    if (at && at.getTime() % grainMs !== 0)
      return `timeDimension.${what} does not fall on a whole ${rollup.grain}`;
  return null;
}

function condition(
  target: string,
  filter: NonNullable<MetricsRequest['filters']>[number],
  numeric: boolean,
  param: (value: unknown, cast: string) => string,
): string {
  const values = filter.values ?? [];
  const one = () => {
    if (values.length !== 1)
      throw new MetricsQueryError(`filter ${filter.operator} on ${filter.member} takes exactly one value`);
    if (numeric && !Number.isFinite(Number(values[0])))
      throw new MetricsQueryError(`filter on measure ${filter.member}: '${values[0]}' is not a number`);
    return param(numeric ? Number(values[0]) : values[0], numeric ? 'float8' : 'text');
  };
  const many = () => {
    if (values.length === 0)
      throw new MetricsQueryError(`filter ${filter.operator} on ${filter.member} needs values`);
    return param([...values], numeric ? 'float8[]' : 'text[]');
  };
  switch (filter.operator) {
    case 'equals':
      return `${target} = ANY(${many()})`;
    case 'notEquals':
      return `(${target} IS NULL OR ${target} <> ALL(${many()}))`;
    case 'gt':
      return `${target} > ${one()}`;
    case 'gte':
      return `${target} >= ${one()}`;
    case 'lt':
      return `${target} < ${one()}`;
    case 'lte':
      return `${target} <= ${one()}`;
    case 'contains':
      if (numeric) throw new MetricsQueryError(`filter contains on measure ${filter.member}: use gt/lt`);
      return `${target} ILIKE '%' || ${one()} || '%'`;
    case 'set':
      return `${target} IS NOT NULL`;
    case 'notSet':
      return `${target} IS NULL`;
    default:
      throw new MetricsQueryError(`unknown filter operator ${String(filter.operator)}`);
  }
}

/** A member name as an output column: double quotes, inner quotes doubled (names are validated anyway). */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** "1, 2, …, n": output columns by position. */
function positions(n: number): string {
  return Array.from({ length: n }, (_, i) => i + 1).join(', ');
}
