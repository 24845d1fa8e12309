import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  GraphQLError,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
} from 'graphql';
import { componentLogger } from '../../observability/index.ts';
import { maskConfidential, maskPii } from './masking.ts';
import type { Classification, FieldAccess, GovernedContext, Policy } from './types.ts';

const log = componentLogger(undefined, 'graphql-governance');

/**
 * Enforces each role's access to @classified fields (docs/graphql.md, "Classification and masking"):
 * allow → the value; mask → PII "***" + last 2 characters, CONFIDENTIAL (and other classes) a hash, non-text
 * types null; hide → null; deny → null with a FORBIDDEN error naming the field and the role, without running
 * the field's resolver. Every classified field resolved is recorded in ctx.audit. Root list fields longer than
 * the role's max_rows fail with ROW_LIMIT. The class is also appended to the field's description, so BI tools
 * see it through introspection.
 */
export function applyFieldPolicy(schema: GraphQLSchema, policy: Policy): GraphQLSchema {
  const hashSecret = () => (policy.hashSecretEnv ? process.env[policy.hashSecretEnv] : undefined);
  const queryType = schema.getQueryType()?.name;
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName) => {
      const level = getDirective(schema, fieldConfig, 'classified')?.[0]?.level as Classification | undefined;
      if (level) return classifiedField(fieldConfig, `${typeName}.${fieldName}`, level, policy, hashSecret);
      if (typeName === queryType && isListType(getNullableType(fieldConfig.type)))
        return rowLimitedField(fieldConfig, `${typeName}.${fieldName}`, policy);
      return fieldConfig;
    },
  });
}

type FieldConfig = GraphQLFieldConfig<unknown, GovernedContext>;

function classifiedField(
  fieldConfig: FieldConfig,
  coordinate: string,
  level: Classification,
  policy: Policy,
  hashSecret: () => string | undefined,
): FieldConfig {
  const resolve: GraphQLFieldResolver<unknown, GovernedContext> = fieldConfig.resolve ?? defaultFieldResolver;
  const textual = ['String', 'ID'].includes(getNamedType(fieldConfig.type).name);
  const hidden = [...policy.roles.values()].some((r) => {
    const access = r.enabled ? r.classification[level] : 'allow';
    return access === 'deny' || access === 'hide' || (access === 'mask' && !textual);
  });
  if (hidden && isNonNullType(fieldConfig.type))
    log.warn(
      { field: coordinate, level },
      'a @classified field is non-null: where a role may not see it, its null spreads to the parent object',
    );
  const mask = (value: unknown): unknown => {
    if (value === null || value === undefined || !textual) return null;
    if (Array.isArray(value)) return value.map(mask);
    return level === 'PII' ? maskPii(value) : maskConfidential(value, hashSecret());
  };
  const note = `Classification: ${level}.`;
  return {
    ...fieldConfig,
    description: fieldConfig.description ? `${fieldConfig.description}\n\n${note}` : note,
    resolve: (source, args, ctx, info) => {
      ctx.audit.fields.add(coordinate);
      ctx.audit.classifications.add(level);
      const access: FieldAccess = policy.roles.get(ctx.principal.role)?.classification[level] ?? 'deny';
      if (access === 'deny')
        throw new GraphQLError(
          `Field ${coordinate} is classified ${level}, which role '${ctx.principal.role}' may not read.`,
          { extensions: { code: 'FORBIDDEN', field: coordinate, classification: level } },
        );
      if (access === 'hide') return null;
      const value = resolve(source, args, ctx, info);
      if (access === 'allow') return value;
      return value instanceof Promise ? value.then(mask) : mask(value);
    },
  };
}

function rowLimitedField(fieldConfig: FieldConfig, coordinate: string, policy: Policy): FieldConfig {
  const resolve: GraphQLFieldResolver<unknown, GovernedContext> = fieldConfig.resolve ?? defaultFieldResolver;
  const check = (value: unknown, ctx: GovernedContext): unknown => {
    const max = policy.roles.get(ctx.principal.role)?.limits.maxRows ?? 0;
    if (Array.isArray(value) && value.length > max)
      throw new GraphQLError(
        `${coordinate} returned ${value.length} rows, more than the limit of ${max} rows for role '${ctx.principal.role}'; narrow the query or page with first/limit.`,
        { extensions: { code: 'ROW_LIMIT', limit: max, found: value.length } },
      );
    return value;
  };
  return {
    ...fieldConfig,
    resolve: (source, args, ctx, info) => {
      const value = resolve(source, args, ctx, info);
      return value instanceof Promise ? value.then((v) => check(v, ctx)) : check(value, ctx);
    },
  };
}
