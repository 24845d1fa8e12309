import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

const require = createRequire(import.meta.url);
const configSchema = require('./iot-hub.schema.json') as object;

/** The hub's resolved configuration: every key present, defaults filled in. */
export interface HubConfig {
  /** Absolute path of the file the values came from, or null when none was found. */
  file: string | null;
  database: { url: string; poolMax: number };
  kafka: { brokers: string[]; clientId: string; sessionTimeoutMs: number };
  redis: { url: string };
  servicenow: {
    url: string;
    auth: {
      mode: 'basic' | 'oauth';
      username: string;
      password: string;
      clientId: string;
      clientSecret: string;
    };
  };
  connect: { url: string };
  http: { port: number };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
}

export const defaultConfig: Omit<HubConfig, 'file'> = {
  database: { url: 'postgres://postgres@127.0.0.1:5432/iot_hub', poolMax: 10 },
  kafka: { brokers: ['127.0.0.1:19092'], clientId: 'iot-hub', sessionTimeoutMs: 30_000 },
  redis: { url: 'redis://127.0.0.1:6379' },
  servicenow: {
    url: 'http://127.0.0.1:18090',
    auth: {
      mode: 'basic',
      username: 'admin',
      password: 'admin',
      clientId: 'hub',
      clientSecret: 'hub-secret',
    },
  },
  connect: { url: 'http://127.0.0.1:18083' },
  http: { port: 4000 },
  log: { level: 'info' },
};

/** Thrown for any problem with the configuration file; the message names the file, the key and what is allowed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateConfig = ajv.compile(configSchema);

export interface LoadConfigOptions {
  /** Config file path; defaults to $HUB_CONFIG, then ./iot-hub.yaml when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** Reads, substitutes, validates and resolves the configuration; environment overrides win over the file. */
export function loadConfig(options: LoadConfigOptions = {}): HubConfig {
  const env = options.env ?? process.env;
  const explicit = options.file ?? env.HUB_CONFIG;
  const file = explicit ? path.resolve(explicit) : path.resolve('iot-hub.yaml');
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (explicit) throw new ConfigError(`${file}: cannot read the config file (${(err as Error).message}).`);
  }
  const fromFile = text === null ? {} : parseConfigText(text, file, env);
  const merged = deepMerge(structuredClone(defaultConfig), fromFile) as Omit<HubConfig, 'file'>;
  applyEnvOverrides(merged, env);
  return { file: text === null ? null : file, ...merged };
}

/** Parses YAML text, substitutes `${NAME}` / `${NAME:-default}` and validates it against the schema. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  substituteEnv(doc.contents, file, lineCounter, env);
  const value = (doc.toJS() ?? {}) as unknown;
  if (!validateConfig(value)) {
    const messages = (validateConfig.errors ?? []).map((e) =>
      describeError(e, doc.contents, file, lineCounter),
    );
    throw new ConfigError(messages.join('\n'));
  }
  return value as Record<string, unknown>;
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

function describeError(e: ErrorObject, root: Node | null, file: string, lc: LineCounter): string {
  const segments = e.instancePath.split('/').slice(1);
  let key = segments.join('.');
  let detail: string;
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    key = [...segments, extra].join('.');
    const allowed = Object.keys(schemaAt(segments)?.properties ?? {});
    detail = `unknown key '${extra}'; allowed here: ${allowed.join(', ')}`;
  } else if (e.keyword === 'enum') {
    detail = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (e.keyword === 'pattern') {
    detail = `${e.message}; ${schemaAt(segments)?.description ?? ''}`.trim();
  } else {
    detail = e.message ?? 'is invalid';
  }
  const node = nodeAt(root, e.keyword === 'additionalProperties' ? [...segments] : segments, e);
  const pos = lc.linePos(node?.range?.[0] ?? 0);
  return `${file}:${pos.line}:${pos.col}: ${key || '(root)'}: ${detail}`;
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  description?: string;
}

function schemaAt(segments: string[]): SchemaNode | undefined {
  let s: SchemaNode | undefined = configSchema as SchemaNode;
  for (const seg of segments) s = /^\d+$/.test(seg) ? s?.items : s?.properties?.[seg];
  return s;
}

function nodeAt(root: Node | null, segments: string[], e: ErrorObject): Node | null {
  let n: Node | null = root;
  for (const seg of segments) {
    if (isMap(n)) n = (n.get(seg, true) as Node | undefined) ?? n;
    else if (isSeq(n)) n = (n.get(Number(seg), true) as Node | undefined) ?? n;
  }
  if (e.keyword === 'additionalProperties' && isMap(n)) {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    const pair = n.items.find((p) => isScalar(p.key) && p.key.value === extra);
    if (pair && isScalar(pair.key)) return pair.key;
  }
  return n;
}

function deepMerge(
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

function applyEnvOverrides(c: Omit<HubConfig, 'file'>, env: NodeJS.ProcessEnv): void {
  if (env.DATABASE_URL) c.database.url = env.DATABASE_URL;
  if (env.KAFKA_BROKERS)
    c.kafka.brokers = env.KAFKA_BROKERS.split(',')
      .map((b) => b.trim())
      .filter(Boolean);
  if (env.REDIS_URL) c.redis.url = env.REDIS_URL;
  if (env.SERVICENOW_URL) c.servicenow.url = env.SERVICENOW_URL;
}
