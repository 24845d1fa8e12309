import { createHash } from 'node:crypto';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  getNullableType,
  isListType,
  Kind,
  Lexer,
  print,
  Source,
  TokenKind,
  type ValueNode,
  validate,
  visit,
} from 'graphql';
import { type ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import type { Policy, Principal, RoleLimits } from './types.ts';

/** Arguments that bound how many rows a list field returns; they multiply its children's cost. */
const SIZE_ARGUMENTS = ['first', 'last', 'limit', 'top'];

export interface OperationCheck {
  schema: GraphQLSchema;
  policy: Policy;
  principal: Principal;
  document: DocumentNode;
  /** The document's text as sent, for the token count (printed from the document when absent). */
  source?: string;
  variables?: Record<string, unknown>;
  operationName?: string | null;
}

/**
 * The per-role checks of one operation before it runs (docs/graphql.md, "Limits"): introspection, tokens,
 * depth, aliases, row arguments, list-size-aware cost. Returns the first failure: a GraphQLError whose message
 * says the limit and what was found, HTTP 400 (403 for introspection), or null.
 */
export function checkOperation(check: OperationCheck): GraphQLError | null {
  const { policy, principal } = check;
  const role = policy.roles.get(principal.role);
  if (!role) return forbidden(`Role '${principal.role}' is not defined in ${policy.file}.`);
  if (
    !role.introspection &&
    perDocument(check.schema, check.document, 'introspection', () => usesIntrospection(check.document))
  ) {
    const allowed = [...policy.roles.values()].filter((r) => r.enabled && r.introspection).map((r) => r.name);
    return forbidden(
      `Introspection (__schema, __type) is not allowed for role '${role.name}'${allowed.length ? `; roles allowed it: ${allowed.join(', ')}` : ''}.`,
    );
  }
  const limits = role.limits;
  const { tokens, depth, aliases } = perDocument(check.schema, check.document, 'shape', () => ({
    tokens: countTokens(check.source ?? print(check.document)),
    ...measureShape(check.schema, check.document),
  }));
  if (tokens > limits.tokens)
    return limitError('TOKEN_LIMIT', 'Query has', 'tokens', tokens, limits.tokens, role.name);
  if (depth > limits.depth)
    return limitError('DEPTH_LIMIT', 'Query depth is', '', depth, limits.depth, role.name);
  if (aliases > limits.aliases)
    return limitError('ALIAS_LIMIT', 'Query uses', 'aliases', aliases, limits.aliases, role.name);
  // Row arguments and cost depend on variables only when a size argument or @skip/@include takes one; otherwise
  // they are the same for every request of the document.
  const byVariables = perDocument(check.schema, check.document, 'sizeVariables', () =>
    sizeDependsOnVariables(check.document),
  );
  const rows = byVariables
    ? largestSizeArgument(check.document, check.variables ?? {})
    : perDocument(check.schema, check.document, 'rows', () => largestSizeArgument(check.document, {}));
  if (rows && rows.value > limits.maxRows)
    return limitError(
      'ROW_LIMIT',
      `Argument ${rows.argument} of ${rows.field} asks for`,
      'rows',
      rows.value,
      limits.maxRows,
      role.name,
    );
  let cost: number;
  try {
    cost = byVariables
      ? queryCost(check, policy.assumedListSize)
      : perDocument(check.schema, check.document, `cost\u0000${check.operationName ?? ''}`, () =>
          queryCost(check, policy.assumedListSize),
        );
  } catch (err) {
    // Unknown operation names and bad variables are reported by execution in the usual way.
    if (err instanceof GraphQLError) return null;
    throw err;
  }
  if (cost > limits.cost)
    return limitError('QUERY_TOO_COMPLEX', 'Query cost is', '', cost, limits.cost, role.name);
  return null;
}

/** sha256 of the document as printed, so whitespace and comments do not change it (hub.audit_log.query_hash). */
export function documentHash(document: DocumentNode): string {
  return perDocument(null, document, 'hash', () =>
    createHash('sha256').update(print(document)).digest('hex'),
  );
}

const memo = new WeakMap<DocumentNode, Map<string, unknown>>();
const schemaIds = new WeakMap<GraphQLSchema, number>();
let schemasSeen = 0;

/**
 * What is computed once per parsed document (and schema): Apollo reuses the DocumentNode of a query text it has
 * seen, so the checks that do not depend on variables run once per distinct operation, not once per request.
 */
export function perDocument<T>(
  schema: GraphQLSchema | null,
  document: DocumentNode,
  what: string,
  compute: () => T,
): T {
  let id = 0;
  if (schema) {
    id = schemaIds.get(schema) ?? 0;
    if (id === 0) {
      id = ++schemasSeen;
      schemaIds.set(schema, id);
    }
  }
  const key = `${what}\u0000${id}`;
  let entries = memo.get(document);
  if (!entries) {
    entries = new Map();
    memo.set(document, entries);
  }
  if (entries.has(key)) return entries.get(key) as T;
  const value = compute();
  entries.set(key, value);
  return value;
}

/** The largest limits over all enabled roles: graphql-armor's first line of defence for every request. */
export function ceilingLimits(policy: Policy): RoleLimits {
  const roles = [...policy.roles.values()].filter((r) => r.enabled).map((r) => r.limits);
  const max = (key: keyof RoleLimits) => Math.max(1, ...roles.map((l) => l[key]));
  return {
    depth: max('depth'),
    aliases: max('aliases'),
    tokens: max('tokens'),
    cost: max('cost'),
    maxRows: max('maxRows'),
  };
}

export function limitError(
  code: string,
  what: string,
  unit: string,
  found: number,
  limit: number,
  role: string | null,
): GraphQLError {
  const units = unit ? ` ${unit}` : '';
  const forRole = role ? ` for role '${role}'` : '';
  return new GraphQLError(`${what} ${found}${units}, more than the limit of ${limit}${units}${forRole}.`, {
    extensions: { code, limit, found, http: { status: 400 } },
  });
}

function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

function usesIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') found = true;
    },
  });
  return found;
}

/** Comments are not tokens (the same count as graphql-armor's max-tokens). */
function countTokens(text: string): number {
  const lexer = new Lexer(new Source(text));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

// graphql-armor's depth and alias rules with no limit, only measuring: onAccept reports the count of each
// operation. validate() runs synchronously, so the counters belong to one call.
let measured = { depth: 0, aliases: 0 };
const measuringRules = new ApolloArmor({
  maxDepth: {
    n: Number.MAX_SAFE_INTEGER,
    onAccept: [
      (_ctx, d) => {
        measured.depth = Math.max(measured.depth, d.n);
      },
    ],
  },
  maxAliases: {
    n: Number.MAX_SAFE_INTEGER,
    onAccept: [
      (_ctx, d) => {
        measured.aliases = Math.max(measured.aliases, d.n);
      },
    ],
  },
  costLimit: { enabled: false },
  maxDirectives: { enabled: false },
  maxTokens: { enabled: false },
  blockFieldSuggestion: { enabled: false },
}).protect().validationRules;

function measureShape(schema: GraphQLSchema, document: DocumentNode): { depth: number; aliases: number } {
  measured = { depth: 0, aliases: 0 };
  validate(schema, document, measuringRules);
  return measured;
}

/** Whether a size argument (first, limit, …) or a @skip/@include condition is given by a variable. */
function sizeDependsOnVariables(document: DocumentNode): boolean {
  let depends = false;
  const literal = (value: ValueNode) => value.kind === Kind.INT || value.kind === Kind.BOOLEAN;
  visit(document, {
    Field(node) {
      for (const arg of node.arguments ?? [])
        if (SIZE_ARGUMENTS.includes(arg.name.value) && !literal(arg.value)) depends = true;
    },
    Directive(node) {
      if (node.name.value === 'skip' || node.name.value === 'include')
        for (const arg of node.arguments ?? []) if (!literal(arg.value)) depends = true;
    },
  });
  return depends;
}

function largestSizeArgument(
  document: DocumentNode,
  variables: Record<string, unknown>,
): { field: string; argument: string; value: number } | null {
  let largest: { field: string; argument: string; value: number } | null = null;
  visit(document, {
    Field(node) {
      for (const arg of node.arguments ?? []) {
        if (!SIZE_ARGUMENTS.includes(arg.name.value)) continue;
        const value = numberValue(arg.value, variables);
        if (value !== null && (!largest || value > largest.value))
          largest = { field: node.name.value, argument: arg.name.value, value };
      }
    },
  });
  return largest;
}

function numberValue(node: ValueNode, variables: Record<string, unknown>): number | null {
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const v = variables[node.name.value];
    return typeof v === 'number' ? v : null;
  }
  return null;
}

/**
 * graphql-query-complexity with list sizes: a field with a first/limit argument costs that many times its
 * children (plus one each); a list without one is assumed to hold `assumedListSize` items; anything else 1.
 */
function queryCost(check: OperationCheck, assumedListSize: number): number {
  const listSize: ComplexityEstimator = ({ args, field, childComplexity }) => {
    const size = SIZE_ARGUMENTS.map((a) => args[a]).find((v): v is number => typeof v === 'number');
    if (size !== undefined) return size * (1 + childComplexity);
    if (isListType(getNullableType(field.type))) return assumedListSize * (1 + childComplexity);
    return undefined;
  };
  return getComplexity({
    schema: check.schema,
    query: check.document,
    variables: check.variables,
    operationName: check.operationName ?? undefined,
    estimators: [listSize, simpleEstimator({ defaultComplexity: 1 })],
  });
}
