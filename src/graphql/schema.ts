import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import type { IResolvers } from '@graphql-tools/utils';
import { type GraphQLSchema, isScalarType, parse } from 'graphql';

/** schema/ in the repository: every *.graphql file in it is part of the schema (docs/graphql.md, "Running"). */
export const defaultSchemaDir = fileURLToPath(new URL('../../schema/', import.meta.url));

/** The SDL files of `dir`, sorted, as [file, text] pairs. */
export function readSchemaFiles(dir = defaultSchemaDir): [string, string][] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => [path.join(dir, f), readFileSync(path.join(dir, f), 'utf8')]);
}

/**
 * One executable schema over all SDL files and the given resolver maps, built as an Apollo Federation 2
 * subgraph (`_service`, `_entities`; docs/graphql.md, "Federation"). The files are parsed as one document, so
 * `extend type Query` in one file extends the Query of another, and the resolver maps are merged type by type.
 */
export function buildHubSchema(resolvers: IResolvers[], dir = defaultSchemaDir): GraphQLSchema {
  const files = readSchemaFiles(dir);
  if (files.length === 0) throw new Error(`${dir}: no *.graphql files; the GraphQL schema lives there`);
  const typeDefs = parse(files.map(([, text]) => text).join('\n'));
  // An array: @apollo/subgraph 2.15 takes its modules only in this form.
  return buildSubgraphSchema([{ typeDefs, resolvers: mergeResolverMaps(resolvers) }]);
}

/** The maps' fields of each type together; a scalar (a GraphQLScalarType) is taken as it is. */
function mergeResolverMaps(maps: IResolvers[]): GraphQLResolverMap<unknown> {
  const merged: Record<string, unknown> = {};
  for (const map of maps)
    for (const [type, fields] of Object.entries(map))
      merged[type] =
        isScalarType(fields) || merged[type] === undefined
          ? fields
          : { ...(merged[type] as object), ...(fields as object) };
  return merged as GraphQLResolverMap<unknown>;
}
