import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

/**
 * Thrown for any problem with a YAML file the hub reads (iot-hub.yaml, connectors/*.yaml). The message has
 * one line per problem: `file:line:col: path: what is wrong`.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A path into a YAML document: map keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/** A validated document: its value, and where each part of it was written for messages of later checks. */
export interface ValidatedYaml<T> {
  value: T;
  file: string;
  /** `file:line:col: rules[0].for` for a path: for checks the schema cannot express (durations, uniqueness). */
  at(path: YamlPath): string;
}

export interface ValidateYamlOptions {
  /** Substitutes `${NAME}` / `${NAME:-default}` in scalar values from these variables (iot-hub.yaml does). */
  env?: NodeJS.ProcessEnv;
}

export interface LoadYamlFileOptions<T> extends ValidateYamlOptions {
  /** Values for keys the file leaves out; objects merge key by key, arrays and scalars are replaced. */
  defaults?: T;
}

// verbose: errors carry their parent schema, so messages can list the keys allowed there and use its
// errorMessage. discriminator: a `oneOf` over `kind` only reports errors of the branch the kind selects.
// allowUnionTypes: a duration is a string (5m) or a number of milliseconds.
const ajv = new Ajv({
  allErrors: true,
  strict: true,
  verbose: true,
  discriminator: true,
  allowUnionTypes: true,
});
// The sentence a schema gives for its own failure (editors such as VS Code's YAML extension show it too).
ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Reads a YAML file, validates it against `schema` and fills in `defaults`. Throws ConfigError. */
export function loadYamlFile<T>(
  file: string,
  schema: object,
  options: LoadYamlFileOptions<T> = {},
): ValidatedYaml<T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the file (${(err as Error).message}).`);
  }
  const doc = validateYaml<T>(text, file, schema, options);
  if (options.defaults === undefined) return doc;
  const merged = deepMerge(structuredClone(options.defaults) as Record<string, unknown>, doc.value as never);
  return { ...doc, value: merged as T };
}

/**
 * Parses YAML text and validates it against a JSON Schema (draft-07). Every problem becomes one line
 * `file:line:col: path: detail`, e.g. `kafka.clientid: unknown key 'clientid'; allowed here: brokers, clientId`.
 * `file` only labels the messages. An empty document is validated as `{}`.
 */
export function validateYaml<T>(
  text: string,
  file: string,
  schema: object,
  options: ValidateYamlOptions = {},
): ValidatedYaml<T> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  if (options.env) substituteEnv(doc.contents, file, lineCounter, options.env);
  const value = (doc.toJS() ?? {}) as unknown;
  const validate = validatorFor(schema);
  if (!validate(value)) {
    // In the order of the file, as a person fixes them.
    const problems = relevantErrors(validate.errors ?? [])
      .map((e) => describeError(e, doc.contents, file, lineCounter))
      .sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ConfigError([...new Set(problems.map((p) => p.text))].join('\n'));
  }
  const at = (path: YamlPath) => {
    const pos = lineCounter.linePos(nodeAt(doc.contents, path.map(String))?.range?.[0] ?? 0);
    return `${file}:${pos.line}:${pos.col}: ${renderPath(path.map(String)) || '(root)'}`;
  };
  return { value: value as T, file, at };
}

/**
 * A failed oneOf/anyOf/not explains itself (with its errorMessage, or as "must match…"); the failures of its
 * branches would only repeat it in schema terms. A discriminator error repeats the error of the tag property
 * (missing, or not one of the kinds) and is dropped when that one is there.
 */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const combiners = errors.filter((e) => ['oneOf', 'anyOf', 'not'].includes(e.keyword));
  return errors.filter((e) => {
    // schemaPath is relative to the $ref'd schema it is in, so the instance path must match as well.
    const inBranch = combiners.some(
      (c) =>
        c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`) && e.instancePath.startsWith(c.instancePath),
    );
    if (inBranch) return false;
    if (e.keyword === 'discriminator') {
      const tagPath = `${e.instancePath}/${(e.params as { tag: string }).tag}`;
      return !errors.some(
        (o) => o !== e && (o.instancePath === tagPath || o.instancePath === e.instancePath),
      );
    }
    return true;
  });
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  description?: string;
  errorMessage?: string;
}

interface Problem {
  line: number;
  col: number;
  text: string;
}

function describeError(e: ErrorObject, root: Node | null, file: string, lc: LineCounter): Problem {
  const segments = e.instancePath.split('/').slice(1).map(unescapePointer);
  const parent = e.parentSchema as SchemaNode | undefined;
  let path = segments;
  let keyNode = false;
  let detail: string;
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    path = [...segments, extra];
    keyNode = true;
    const allowed = Object.keys(parent?.properties ?? {});
    detail = `unknown key '${extra}'; allowed here: ${allowed.join(', ')}`;
  } else if (parent?.errorMessage) {
    detail = parent.errorMessage;
  } else if (e.keyword === 'enum') {
    detail = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (e.keyword === 'pattern') {
    detail = `${e.message}; ${parent?.description ?? ''}`.trim();
  } else {
    detail = e.message ?? 'is invalid';
  }
  const node = nodeAt(root, path, keyNode);
  const { line, col } = lc.linePos(node?.range?.[0] ?? 0);
  return { line, col, text: `${file}:${line}:${col}: ${renderPath(path) || '(root)'}: ${detail}` };
}

/** `rules[0].escalate.after`: indexes in brackets, as a reader of the YAML counts list items. */
function renderPath(segments: readonly string[]): string {
  return segments.reduce(
    (out, seg) => (/^\d+$/.test(seg) ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg),
    '',
  );
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The node at `segments` (or the deepest one that exists); with `keyNode`, the key of the last segment. */
function nodeAt(root: Node | null, segments: readonly string[], keyNode = false): Node | null {
  let n: Node | null = root;
  const last = segments.length - 1;
  for (const [i, seg] of segments.entries()) {
    if (isMap(n)) {
      if (keyNode && i === last) {
        const pair = n.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
        if (pair && isScalar(pair.key)) return pair.key;
      }
      n = (n.get(seg, true) as Node | undefined) ?? n;
    } else if (isSeq(n)) {
      n = (n.get(Number(seg), true) as Node | undefined) ?? n;
    }
  }
  return n;
}

function substituteEnv(node: Node | null, file: string, lc: LineCounter, env: NodeJS.ProcessEnv): void {
  if (!node) return;
  if (isMap(node) || isSeq(node)) {
    for (const item of node.items) substituteEnv((isPair(item) ? item.value : item) as Node, file, lc, env);
    return;
  }
  if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
    const text: string = node.value;
    const substituted = text.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (_m, name: string, dflt?: string) => {
        const v = env[name];
        if (v !== undefined && v !== '') return v;
        if (dflt !== undefined) return dflt;
        const pos = lc.linePos(node.range?.[0] ?? 0);
        throw new ConfigError(
          `${file}:${pos.line}:${pos.col}: environment variable ${name} is not set; set it or write \${${name}:-default}.`,
        );
      },
    );
    // A substituted number stays a number, so `port: ${PORT}` validates as an integer.
    node.value = /^-?\d+$/.test(substituted) ? Number(substituted) : substituted;
  }
}

/** Merges `source` into `target` key by key (objects recursively; arrays and scalars replace). */
export function deepMerge(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): Record<string, unknown> {
  for (const [k, v] of Object.entries(source)) {
    const t = target[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && t && typeof t === 'object' && !Array.isArray(t)) {
      deepMerge(t as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      target[k] = v;
    }
  }
  return target;
}
