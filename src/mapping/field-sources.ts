import type { Expr } from './expression/ast.ts';
import { flattenPath } from './expression/compile-path.ts';
import { parseExpression } from './expression/parser.ts';
import type { FieldSpec, MappingSpec } from './mapping-spec.ts';
import { PARENT_VARIABLE, ROW_VARIABLE } from './value-references.ts';

/** A source field an output field is computed from: a dotted path in the source record (`readings.v`). */
export interface FieldSource {
  path: string;
  /** True when the output field is the source value as is (`$.id`), false when computed from it. */
  identity: boolean;
}

/** What each output field of a mapping reads from the source record, and what decides which rows exist. */
export interface FieldSources {
  /** Output field → the source fields it is computed from (empty for constants and metadata). */
  fields: Readonly<Record<string, readonly FieldSource[]>>;
  /** Source fields read by explode and where: they select rows rather than fill a column. */
  filters: readonly FieldSource[];
}

const NONE: FieldSources = { fields: {}, filters: [] };

/**
 * The source fields of every output field (mappings/README.md), found by walking the expressions: `$.a` reads the
 * exploded element (prefixed by the explode path), `$$.a` the message, `$name` a let and `$row.f` another field,
 * each followed to the paths it reads. JSONata fields contribute only the lets they name; `$meta` reads Kafka or
 * change-event metadata, not a source field. Used for lineage (src/lineage); an expression that does not
 * parse contributes nothing (compiling reports it).
 */
export function fieldSourcesOf(spec: MappingSpec): FieldSources {
  try {
    return new SourceWalk(spec).result();
  } catch {
    return NONE;
  }
}

class SourceWalk {
  private readonly spec: MappingSpec;
  /** Element path prefix, or null when explode is not a plain path (then $ reads what explode reads). */
  private readonly element: string[] | null;
  private readonly parent: string[];
  private explodeReads: FieldSource[] = [];
  private readonly memo = new Map<string, FieldSource[]>();
  private readonly visiting = new Set<string>();

  constructor(spec: MappingSpec) {
    this.spec = spec;
    const levels = spec.explode === undefined ? null : plainExplode(spec.explode);
    this.element = spec.explode === undefined ? [] : levels ? levels.flat() : null;
    this.parent = levels ? levels.slice(0, -1).flat() : [];
    this.explodeReads =
      spec.explode === undefined ? [] : this.reads(spec.explode.replaceAll('[*]', ''), { root: true });
  }

  result(): FieldSources {
    const fields: Record<string, FieldSource[]> = {};
    for (const name of Object.keys(this.spec.fields)) fields[name] = this.named('row', name);
    const filters = [...this.explodeReads, ...(this.spec.where ? this.reads(this.spec.where, {}) : [])];
    return { fields, filters: unique(filters).map((s) => ({ ...s, identity: false })) };
  }

  private named(kind: 'row' | 'let', name: string): FieldSource[] {
    const key = `${kind}:${name}`;
    const known = this.memo.get(key);
    if (known) return known;
    if (this.visiting.has(key)) return [];
    this.visiting.add(key);
    const spec = kind === 'row' ? this.spec.fields[name] : this.spec.let?.[name];
    const out = spec === undefined ? [] : unique(this.ofSpec(spec));
    this.visiting.delete(key);
    this.memo.set(key, out);
    return out;
  }

  private ofSpec(spec: FieldSpec): FieldSource[] {
    if (typeof spec === 'string') return this.reads(spec, {});
    if (spec === null || typeof spec !== 'object') return [];
    const out: FieldSource[] = [];
    if (typeof spec.expr === 'string') out.push(...this.reads(spec.expr, {}));
    else if (spec.expr)
      for (const m of spec.expr.jsonata.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g))
        out.push(...this.named('let', m[1]!).map(computed));
    if (typeof spec.match === 'string') out.push(...this.reads(spec.match, {}).map(computed));
    return out;
  }

  private reads(text: string, options: { root?: boolean }): FieldSource[] {
    const tree = parseExpression(text);
    const out: FieldSource[] = [];
    this.walk(tree, out, options.root === true);
    // Only an expression that is one path (or one name) passes its value on unchanged.
    const single = tree.type === 'member' || tree.type === 'index' || tree.type === 'var';
    return single ? out : out.map(computed);
  }

  private walk(node: Expr, out: FieldSource[], atRoot: boolean): void {
    const pathNode =
      node.type === 'member' || node.type === 'index' || node.type === 'current' || node.type === 'root';
    if (pathNode) {
      const read = this.pathReads(node, atRoot);
      if (read) {
        out.push(...read);
        return;
      }
    }
    if (node.type === 'var') {
      if (node.name !== ROW_VARIABLE && node.name !== PARENT_VARIABLE)
        out.push(...this.named('let', node.name));
      return;
    }
    // Generic over node shapes, so node kinds added to the expression language are still searched.
    for (const child of Object.values(node)) this.walkAny(child, out, atRoot);
  }

  /** What a path reads, or null when it starts from a computed value (then its parts are walked). */
  private pathReads(node: Expr, atRoot: boolean): FieldSource[] | null {
    const { base, segments } = flattenPath(node);
    const keys = segments.filter((s): s is string => typeof s === 'string');
    if (base.type === 'current') {
      if (atRoot) return path(keys);
      return this.element ? path([...this.element, ...keys]) : this.explodeReads.map(computed);
    }
    if (base.type === 'root') return path(keys);
    if (base.type === 'var' && base.name === PARENT_VARIABLE) return path([...this.parent, ...keys]);
    if (base.type === 'var' && base.name === ROW_VARIABLE && keys[0] !== undefined)
      return this.named('row', keys[0]);
    if (base === node) return null;
    const out: FieldSource[] = [];
    this.walk(base, out, atRoot);
    return out;
  }

  private walkAny(value: unknown, out: FieldSource[], atRoot: boolean): void {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) this.walkAny(item, out, atRoot);
    } else if (typeof (value as { type?: unknown }).type === 'string') {
      this.walk(value as Expr, out, atRoot);
    } else {
      for (const child of Object.values(value)) this.walkAny(child, out, atRoot);
    }
  }
}

/** `$.sensors[*].readings[*]` → [['sensors'], ['readings']]; null when explode is anything but such a path. */
function plainExplode(text: string): string[][] | null {
  const trimmed = text.trim();
  if (!/^\$(\.[A-Za-z_][A-Za-z0-9_]*(\[\*\])?)+$/.test(trimmed)) return null;
  return trimmed
    .slice(2)
    .split(/\[\*\]\.?/)
    .filter(Boolean)
    .map((level) => level.split('.'));
}

function path(keys: string[]): FieldSource[] {
  return keys.length === 0 ? [] : [{ path: keys.join('.'), identity: true }];
}

function computed(source: FieldSource): FieldSource {
  return source.identity ? { ...source, identity: false } : source;
}

function unique(sources: FieldSource[]): FieldSource[] {
  const byPath = new Map<string, FieldSource>();
  for (const s of sources) {
    const seen = byPath.get(s.path);
    // Read once as is and once computed: computed (the value is not passed on unchanged).
    byPath.set(s.path, seen ? { path: s.path, identity: seen.identity && s.identity } : s);
  }
  return [...byPath.values()];
}
