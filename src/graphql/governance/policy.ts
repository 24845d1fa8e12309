import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError, loadYamlFile, type ValidatedYaml, validateYaml } from '../../config/index.ts';
import {
  type ApiKeyPolicy,
  CLASSIFICATIONS,
  type Classification,
  type FieldAccess,
  type Policy,
  type RoleLimits,
  type RolePolicy,
} from './types.ts';

const require = createRequire(import.meta.url);
/** schema/policy.schema.json; schema/policy.yaml names it for editors too. */
const schema = require('../../../schema/policy.schema.json') as object;

export const DEFAULT_POLICY_FILE = 'schema/policy.yaml';

/** Limits of a role that sets none, unless the file's defaults.limits says otherwise. */
const BUILT_IN_LIMITS: RoleLimits = { depth: 8, aliases: 15, tokens: 2000, cost: 20_000, maxRows: 10_000 };

interface LimitsYaml {
  depth?: number;
  aliases?: number;
  tokens?: number;
  cost?: number;
  max_rows?: number;
}
interface PolicyYaml {
  auth?: {
    jwt?: {
      secret_env?: string;
      jwks_url?: string;
      issuer?: string;
      audience?: string;
      subject_claim?: string;
      role_claim?: string;
      sites_claim?: string;
    };
    api_key_header?: string;
    api_keys?: { name: string; sha256: string; role: string; sites?: string[] | null }[];
  };
  anonymous_role?: string;
  defaults?: { limits?: LimitsYaml; assumed_list_size?: number };
  roles: Record<
    string,
    {
      description?: string;
      enabled?: boolean;
      introspection?: boolean;
      row_filter?: 'all' | 'sites';
      classification?: Partial<Record<Classification, FieldAccess>>;
      limits?: LimitsYaml;
    }
  >;
  persisted_operations?: { enabled?: boolean; manifest?: string };
  errors?: { mask_internal?: 'auto' | boolean };
  masking?: { hash_secret_env?: string };
}

/** Reads and validates a policy file (default schema/policy.yaml). Throws ConfigError, one line a problem. */
export function loadPolicy(file: string = DEFAULT_POLICY_FILE): Policy {
  return buildPolicy(loadYamlFile<PolicyYaml>(file, schema));
}

/** The same as loadPolicy for YAML text; `file` only labels the messages. */
export function parsePolicy(text: string, file = 'policy.yaml'): Policy {
  return buildPolicy(validateYaml<PolicyYaml>(text, file, schema));
}

function buildPolicy(doc: ValidatedYaml<PolicyYaml>): Policy {
  const v = doc.value;
  const problems: string[] = [];
  const defaults = limitsFrom(BUILT_IN_LIMITS, v.defaults?.limits);
  const roles = new Map<string, RolePolicy>();
  for (const [name, r] of Object.entries(v.roles)) {
    const classification = {} as Record<Classification, FieldAccess>;
    for (const c of CLASSIFICATIONS) classification[c] = r.classification?.[c] ?? 'deny';
    roles.set(name, {
      name,
      enabled: r.enabled ?? true,
      description: r.description,
      introspection: r.introspection ?? false,
      rowFilter: r.row_filter === 'sites' ? 'claim' : 'all',
      classification,
      limits: limitsFrom(defaults, r.limits),
    });
  }
  const anonymousRole = v.anonymous_role ?? 'anonymous';
  if (v.anonymous_role !== undefined && !roles.has(anonymousRole))
    problems.push(
      `${doc.at(['anonymous_role'])}: role '${anonymousRole}' is not defined under roles (defined: ${[...roles.keys()].join(', ')})`,
    );
  const apiKeys: ApiKeyPolicy[] = [];
  const keyNames = new Set<string>();
  for (const [i, k] of (v.auth?.api_keys ?? []).entries()) {
    if (!roles.has(k.role))
      problems.push(
        `${doc.at(['auth', 'api_keys', i, 'role'])}: role '${k.role}' is not defined under roles (defined: ${[...roles.keys()].join(', ')})`,
      );
    if (keyNames.has(k.name))
      problems.push(
        `${doc.at(['auth', 'api_keys', i, 'name'])}: a second key named '${k.name}'; names must be unique`,
      );
    keyNames.add(k.name);
    apiKeys.push({ name: k.name, sha256: k.sha256, role: k.role, sites: k.sites ?? null });
  }
  const jwt = v.auth?.jwt;
  if (jwt && (jwt.secret_env === undefined) === (jwt.jwks_url === undefined))
    problems.push(
      `${doc.at(['auth', 'jwt'])}: set exactly one of secret_env (the environment variable with a shared secret) and jwks_url`,
    );
  const persisted = v.persisted_operations;
  if (persisted?.enabled && !persisted.manifest)
    problems.push(
      `${doc.at(['persisted_operations'])}: enabled: true needs manifest: <file> (an Apollo persisted query manifest)`,
    );
  let operations = new Map<string, string>();
  if (persisted?.enabled && persisted.manifest) {
    try {
      operations = readManifest(persisted.manifest);
    } catch (err) {
      problems.push(`${doc.at(['persisted_operations', 'manifest'])}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return {
    file: doc.file,
    auth: {
      jwt: jwt && {
        secretEnv: jwt.secret_env,
        jwksUrl: jwt.jwks_url,
        issuer: jwt.issuer,
        audience: jwt.audience,
        subjectClaim: jwt.subject_claim ?? 'sub',
        roleClaim: jwt.role_claim ?? 'role',
        sitesClaim: jwt.sites_claim ?? 'sites',
      },
      apiKeys,
      apiKeyHeader: v.auth?.api_key_header ?? 'x-api-key',
    },
    anonymousRole,
    roles,
    assumedListSize: v.defaults?.assumed_list_size ?? 10,
    persistedOperations: { enabled: persisted?.enabled ?? false, manifest: persisted?.manifest, operations },
    maskErrors: v.errors?.mask_internal ?? 'auto',
    hashSecretEnv: v.masking?.hash_secret_env,
  };
}

function limitsFrom(base: RoleLimits, y: LimitsYaml | undefined): RoleLimits {
  return {
    depth: y?.depth ?? base.depth,
    aliases: y?.aliases ?? base.aliases,
    tokens: y?.tokens ?? base.tokens,
    cost: y?.cost ?? base.cost,
    maxRows: y?.max_rows ?? base.maxRows,
  };
}

/** An Apollo persisted query manifest (@apollo/generate-persisted-query-manifest) → sha256 → body. */
function readManifest(file: string): Map<string, string> {
  let manifest: { format?: unknown; version?: unknown; operations?: unknown };
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the persisted operation manifest ${file} (${(err as Error).message})`);
  }
  if (
    manifest.format !== 'apollo-persisted-query-manifest' ||
    manifest.version !== 1 ||
    !Array.isArray(manifest.operations)
  )
    throw new Error(
      `${file} is not an Apollo persisted query manifest: expected {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [...]}`,
    );
  const operations = new Map<string, string>();
  for (const [i, op] of (manifest.operations as { id?: unknown; body?: unknown }[]).entries()) {
    if (typeof op.body !== 'string' || typeof op.id !== 'string')
      throw new Error(`${file}: operations[${i}] needs a string id and body`);
    const hash = createHash('sha256').update(op.body).digest('hex');
    if (hash !== op.id)
      throw new Error(`${file}: operations[${i}].id is not the sha256 of its body (expected ${hash})`);
    operations.set(hash, op.body);
  }
  return operations;
}
