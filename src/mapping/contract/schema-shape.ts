import { MappingErrorCode } from '../errors.ts';
import { formatPath, type PathSegment } from '../expression/compile-path.ts';
import { ExpressionFault } from '../expression/fault.ts';
import { didYouMean, listOf } from '../suggest.ts';

export type JsonSchema = Record<string, unknown>;

/** What a checked path starts from, as messages name it. */
type BaseName = '$' | '$$' | '$parent';

/** A schema node, or 'open' when the contract says nothing about what is there. */
type Shape = JsonSchema | 'open';

/**
 * Static path checks against the source contract: `$.readings[0].valu` fails at compile time when the
 * contract declares the reading's properties and `valu` is not one of them: a path that can
 * never match the source schema. Composite schemas (anyOf/oneOf/allOf) and open objects are not judged.
 */
export class SchemaShape {
  private readonly root: JsonSchema;

  constructor(root: JsonSchema) {
    this.root = root;
  }

  /**
   * What exploding the value at `segments` under `start` yields: the schema of its elements (an array's
   * items, or `{key, value}` for an object's entries; null when the contract does not say), or `notExplodable`
   * with the declared type when the contract says it is neither an array nor an object. Throws
   * ExpressionFault(UNKNOWN_PATH) like check().
   */
  elementsOf(
    start: JsonSchema,
    baseName: BaseName,
    segments: PathSegment[],
    positions: number[],
  ): { elements: JsonSchema | null } | { notExplodable: string } {
    const shape = this.walk(start, baseName, segments, positions);
    if (shape === 'open') return { elements: null };
    const schema = this.deref(shape);
    if (isComposite(schema)) return { elements: null };
    const type = schema.type;
    if (typeof type === 'string' && type !== 'array' && type !== 'object') return { notExplodable: type };
    if (type === 'array' || (type === undefined && 'items' in schema)) {
      const items = schema.items;
      const ok = typeof items === 'object' && items !== null && !Array.isArray(items);
      return { elements: ok ? (items as JsonSchema) : null };
    }
    if (type === 'object' || (type === undefined && 'properties' in schema)) {
      return { elements: entrySchema(schema) };
    }
    return { elements: null };
  }

  /** Throws ExpressionFault(UNKNOWN_PATH) when `segments` can never exist under `base`. */
  check(base: JsonSchema, baseName: BaseName, segments: PathSegment[], positions: number[]): void {
    this.walk(base, baseName, segments, positions);
  }

  private walk(start: JsonSchema, baseName: BaseName, segments: PathSegment[], positions: number[]): Shape {
    let shape: Shape = start;
    for (let i = 0; i < segments.length && shape !== 'open'; i++) {
      const pos = positions[i] ?? 0;
      const schema = this.deref(shape);
      if (isComposite(schema)) return 'open';
      const seg = segments[i]!;
      const here = pathFrom(baseName, segments.slice(0, i));
      const type = schema.type;
      if (typeof seg === 'string') {
        if (typeof type === 'string' && type !== 'object')
          throw notContainer(here, type, `field '${seg}'`, pos);
        const properties = schema.properties as Record<string, JsonSchema> | undefined;
        if (properties && Object.hasOwn(properties, seg)) {
          shape = properties[seg]!;
        } else if (properties && schema.additionalProperties === undefined && !schema.patternProperties) {
          const known = Object.keys(properties);
          throw new ExpressionFault(
            MappingErrorCode.UNKNOWN_PATH,
            `${pathFrom(baseName, segments.slice(0, i + 1))} can never match the source schema: ${here} has no field '${seg}'${didYouMean(seg, known)}; it has ${listOf(known)}`,
            pos,
          );
        } else {
          shape =
            typeof schema.additionalProperties === 'object'
              ? (schema.additionalProperties as JsonSchema)
              : 'open';
        }
      } else {
        if (typeof type === 'string' && type !== 'array')
          throw notContainer(here, type, `index [${seg.index}]`, pos);
        const items = schema.items;
        shape =
          typeof items === 'object' && items !== null && !Array.isArray(items)
            ? (items as JsonSchema)
            : 'open';
      }
    }
    return shape;
  }

  // Local references only (#/definitions/x, #/$defs/x): contracts are self-contained files.
  private deref(schema: JsonSchema): JsonSchema {
    let current = schema;
    for (let hops = 0; typeof current.$ref === 'string' && hops < 20; hops++) {
      const ref = current.$ref as string;
      if (!ref.startsWith('#/')) return {};
      let target: unknown = this.root;
      for (const part of ref.slice(2).split('/')) {
        target = typeof target === 'object' && target !== null ? (target as JsonSchema)[part] : undefined;
      }
      if (typeof target !== 'object' || target === null) return {};
      current = target as JsonSchema;
    }
    return current;
  }
}

// Exploding an object yields one {key, value} element per entry; value has the declared values' schema
// (additionalProperties), or is open when the object names its properties.
function entrySchema(object: JsonSchema): JsonSchema {
  const values = object.additionalProperties;
  const value = typeof values === 'object' && values !== null && !object.properties ? values : {};
  return { type: 'object', properties: { key: { type: 'string' }, value }, required: ['key', 'value'] };
}

function pathFrom(base: BaseName, segments: PathSegment[]): string {
  return base + formatPath('$', segments).slice(1);
}

function isComposite(schema: JsonSchema): boolean {
  return 'anyOf' in schema || 'oneOf' in schema || 'allOf' in schema || 'if' in schema;
}

function notContainer(path: string, type: string, what: string, pos: number): ExpressionFault {
  return new ExpressionFault(
    MappingErrorCode.UNKNOWN_PATH,
    `${path} is ${type === 'array' || type === 'object' || type === 'integer' ? 'an' : 'a'} ${type} in the source schema, so it has no ${what}`,
    pos,
  );
}
