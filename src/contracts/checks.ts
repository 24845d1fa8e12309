import type pg from 'pg';
import { readCatalog } from './catalog.ts';
import type { DataContract, QualityRule, SchemaObject, SchemaProperty, SlaProperty } from './contract.ts';
import { contractDrift } from './drift.ts';

// `contracts test` (docs/data-products.md, "Test"): every check a contract implies, run against the live
// warehouse, the way `datacontract test` runs them: the schema (tables, columns, types, nullability, keys), the
// quality rules (ODCS library metrics and SQL, `{object}` and `{property}` replaced) and the latency objective.

export type CheckKind = 'schema' | 'quality' | 'sla';
export type CheckOutcome = 'passed' | 'failed' | 'skipped' | 'error';

export interface CheckResult {
  product: string;
  /** `table`, `table.column` or the SLA element. */
  element: string;
  /** Stable name: `schema`, a quality rule's name, `latency`. */
  check: string;
  kind: CheckKind;
  outcome: CheckOutcome;
  /** The value measured (a count, a ratio, seconds); null for schema checks and errors. */
  observed: number | null;
  /** What the contract demands, as written (`mustBe 0`, `<= 7200 s`). */
  expected: string;
  /** Why a check did not pass, or a short note. */
  message: string;
  /** Object-level rule's ODCS dimension (completeness, timeliness…), for the product status. */
  dimension?: string;
}

export interface RunOptions {
  /** The warehouse schema tables live in when a contract's physicalName does not say. @defaultValue 'dw' */
  schema?: string;
}

/**
 * Every check of `contract` against `db`, in contract order: the schema checks of each object, its quality rules
 * (object level, then per property), then the SLA latency. Never throws for a failing check: a query that fails
 * is an `error` result with PostgreSQL's message, and the rest still run.
 */
export async function runContractChecks(
  db: pg.Pool,
  contract: DataContract,
  options: RunOptions = {},
): Promise<CheckResult[]> {
  const defaultSchema = options.schema ?? 'dw';
  const results: CheckResult[] = [];
  const product = contract.id;
  for (const object of contract.schema) {
    const [schema, table] = qualifiedName(object, defaultSchema);
    const [catalog] = await readCatalog(db, schema, [table]);
    const drift = contractDrift(object, catalog);
    const columnsDrift = (element: string) => drift.filter((d) => d.element === element);
    const tableMissing = drift.find((d) => d.kind === 'table missing');
    results.push(
      schemaResult(product, object.name, tableMissing ? [tableMissing.message] : [], 'table exists'),
    );
    if (tableMissing) continue;
    for (const p of object.properties)
      results.push(
        schemaResult(
          product,
          `${object.name}.${p.name}`,
          columnsDrift(`${object.name}.${p.name}`).map((d) => d.message),
          describe(p),
        ),
      );
    for (const d of drift.filter((x) => x.kind === 'column added'))
      results.push(schemaResult(product, d.element, [d.message], 'not in the table'));
    const target = `${schema}.${table}`;
    for (const rule of object.quality ?? [])
      results.push(await runRule(db, product, object.name, target, null, rule));
    for (const p of object.properties)
      for (const rule of p.quality ?? [])
        results.push(await runRule(db, product, `${object.name}.${p.name}`, target, p.name, rule));
  }
  for (const sla of contract.slaProperties ?? [])
    if (sla.property === 'latency') results.push(await runLatency(db, product, sla, defaultSchema));
  return results;
}

function qualifiedName(object: SchemaObject, defaultSchema: string): [string, string] {
  const physical = object.physicalName ?? object.name;
  const dot = physical.indexOf('.');
  return dot < 0 ? [defaultSchema, physical] : [physical.slice(0, dot), physical.slice(dot + 1)];
}

function describe(p: SchemaProperty): string {
  return [
    p.physicalType,
    p.required ? 'required' : 'optional',
    p.primaryKey ? `key #${p.primaryKeyPosition}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

function schemaResult(product: string, element: string, problems: string[], expected: string): CheckResult {
  return {
    product,
    element,
    check: 'schema',
    kind: 'schema',
    outcome: problems.length === 0 ? 'passed' : 'failed',
    observed: null,
    expected,
    message: problems.join('; '),
  };
}

/** The SQL measuring a rule; null for rules the hub does not run (text, custom). */
function ruleQuery(rule: QualityRule, target: string, column: string | null): string | null {
  const col = column === null ? null : `"${column}"`;
  const perColumn = (what: string) => {
    if (!col)
      throw new Error(
        `the ${rule.metric} metric needs a property; move the rule under one of the table's properties`,
      );
    return what;
  };
  const share = (condition: string) =>
    rule.unit === 'percent'
      ? `SELECT coalesce(100.0 * count(*) FILTER (WHERE ${condition}) / nullif(count(*), 0), 0) FROM {object}`
      : `SELECT count(*) FILTER (WHERE ${condition}) FROM {object}`;
  let sql: string | null = null;
  if (rule.type === 'sql') sql = rule.query ?? null;
  else if (rule.type === 'library')
    switch (rule.metric) {
      case 'rowCount':
        sql = 'SELECT count(*) FROM {object}';
        break;
      case 'nullValues':
        sql = perColumn(share(`${col} IS NULL`));
        break;
      case 'duplicateValues':
        sql = perColumn(`SELECT count(${col}) - count(DISTINCT ${col}) FROM {object}`);
        break;
      default:
        throw new Error(`the hub does not run the ${rule.metric} metric; write the rule as type: sql`);
    }
  return sql?.replaceAll('{object}', target).replaceAll('{property}', col ?? '{property}') ?? null;
}

async function runRule(
  db: pg.Pool,
  product: string,
  element: string,
  target: string,
  column: string | null,
  rule: QualityRule,
): Promise<CheckResult> {
  const base = {
    product,
    element,
    check: rule.name,
    kind: 'quality' as const,
    expected: expectation(rule),
    dimension: rule.dimension,
  };
  try {
    const sql = ruleQuery(rule, target, column);
    if (sql === null)
      return { ...base, outcome: 'skipped', observed: null, message: `${rule.type} rules are read, not run` };
    const { rows } = await db.query({ text: sql, rowMode: 'array' });
    const value = rows[0]?.[0];
    const observed =
      value === null || value === undefined
        ? null
        : typeof value === 'boolean'
          ? Number(value)
          : Number(value);
    const passed = observed !== null && Number.isFinite(observed) && satisfies(rule, observed);
    return {
      ...base,
      outcome: passed ? 'passed' : 'failed',
      observed,
      message: passed ? '' : `measured ${observed ?? 'no value'}, ${base.expected}`,
    };
  } catch (err) {
    return { ...base, outcome: 'error', observed: null, message: (err as Error).message };
  }
}

/** The rule's operator as text: `mustBe 0`. */
export function expectation(rule: QualityRule): string {
  for (const op of operators) if (rule[op] !== undefined) return `${op} ${JSON.stringify(rule[op])}`;
  return 'no operator';
}

const operators = [
  'mustBe',
  'mustNotBe',
  'mustBeGreaterThan',
  'mustBeGreaterOrEqualTo',
  'mustBeLessThan',
  'mustBeLessOrEqualTo',
  'mustBeBetween',
  'mustNotBeBetween',
] as const;

/** Whether `value` meets the rule's operator (ODCS: exactly one operator per rule). */
export function satisfies(rule: QualityRule, value: number): boolean {
  if (rule.mustBe !== undefined) return value === Number(rule.mustBe);
  if (rule.mustNotBe !== undefined) return value !== Number(rule.mustNotBe);
  if (rule.mustBeGreaterThan !== undefined) return value > rule.mustBeGreaterThan;
  if (rule.mustBeGreaterOrEqualTo !== undefined) return value >= rule.mustBeGreaterOrEqualTo;
  if (rule.mustBeLessThan !== undefined) return value < rule.mustBeLessThan;
  if (rule.mustBeLessOrEqualTo !== undefined) return value <= rule.mustBeLessOrEqualTo;
  if (rule.mustBeBetween) return value >= rule.mustBeBetween[0] && value <= rule.mustBeBetween[1];
  if (rule.mustNotBeBetween) return value < rule.mustNotBeBetween[0] || value > rule.mustNotBeBetween[1];
  return false;
}

const unitSeconds: Record<string, number> = {
  s: 1,
  m: 60,
  min: 60,
  h: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
};

/** The latency objective in seconds; throws a sentence naming the units it takes. */
export function latencySeconds(sla: SlaProperty): number {
  const factor = unitSeconds[sla.unit ?? 's'];
  if (factor === undefined || typeof sla.value !== 'number')
    throw new Error(
      `latency needs a number and a unit of ${Object.keys(unitSeconds).join(', ')}; got ${JSON.stringify(sla.value)} ${sla.unit ?? ''}`,
    );
  return sla.value * factor;
}

/**
 * Seconds since the newest value of the latency element (`table.column`, an indexed timestamp so that max() is
 * one index probe); null when the table is empty.
 */
export async function measureLatency(db: pg.Pool, element: string, schema = 'dw'): Promise<number | null> {
  const match = /^(\w+)\.(\w+)$/.exec(element);
  if (!match)
    throw new Error(`latency element '${element}' must be table.column, e.g. fact_sensor_hourly.hour_start`);
  const { rows } = await db.query<{ age: number | null }>(
    `SELECT extract(epoch FROM now() - max("${match[2]}"))::float8 AS age FROM "${schema}"."${match[1]}"`,
  );
  return rows[0]?.age ?? null;
}

async function runLatency(
  db: pg.Pool,
  product: string,
  sla: SlaProperty,
  schema: string,
): Promise<CheckResult> {
  const element = sla.element ?? '';
  const base = { product, element, check: 'latency', kind: 'sla' as const, dimension: 'timeliness' };
  try {
    const limit = latencySeconds(sla);
    const age = await measureLatency(db, element, schema);
    const passed = age !== null && age <= limit;
    return {
      ...base,
      outcome: passed ? 'passed' : 'failed',
      observed: age,
      expected: `<= ${limit} s`,
      message: passed
        ? ''
        : age === null
          ? 'no rows'
          : `newest ${element} is ${Math.round(age)} s old, the objective is ${limit} s`,
    };
  } catch (err) {
    return {
      ...base,
      outcome: 'error',
      observed: null,
      expected: `${sla.value} ${sla.unit ?? ''}`,
      message: (err as Error).message,
    };
  }
}
