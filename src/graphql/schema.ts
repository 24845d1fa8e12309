import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { IResolvers } from '@graphql-tools/utils';
import type { GraphQLSchema } from 'graphql';

/** schema/ in the repository: every *.graphql file in it is part of the schema (docs/graphql.md, "Running"). */
export const defaultSchemaDir = fileURLToPath(new URL('../../schema/', import.meta.url));

/** The SDL files of `dir`, sorted, as [file, text] pairs. */
export function readSchemaFiles(dir = defaultSchemaDir): [string, string][] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => [path.join(dir, f), readFileSync(path.join(dir, f), 'utf8')]);
}

/** One executable schema over all SDL files and the given resolver maps. */
export function buildHubSchema(resolvers: IResolvers[], dir = defaultSchemaDir): GraphQLSchema {
  const files = readSchemaFiles(dir);
  if (files.length === 0) throw new Error(`${dir}: no *.graphql files; the GraphQL schema lives there`);
  return makeExecutableSchema({ typeDefs: files.map(([, text]) => text), resolvers });
}
