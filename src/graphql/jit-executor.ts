import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  getVariableValues,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

type Gateway = ApolloServerOptionsWithGateway<object>['gateway'];

/** Compiled operations kept per document: Apollo reuses the DocumentNode of a query text it has seen. */
const compiled = new WeakMap<
  GraphQLSchema,
  WeakMap<DocumentNode, Map<string, CompiledQuery | ExecutionResult>>
>();

/**
 * Executes operations with graphql-jit instead of graphql-js (docs/graphql.md, "Execution"): each distinct
 * operation is compiled once into a function of the schema's resolvers, which returns plain objects (JSON.stringify
 * takes its fast path on them) and resolves a field without graphql-js's per-field argument and promise machinery.
 * Plugged in through Apollo Server's gateway interface, whose executor replaces graphql-js's `execute` after
 * parsing, validation and every plugin hook up to `didResolveOperation` (so governance runs as before).
 * Subscriptions (graphql-ws) keep graphql-js.
 */
export function jitGateway(schema: GraphQLSchema): Gateway {
  let byDocument = compiled.get(schema);
  if (!byDocument) {
    byDocument = new WeakMap();
    compiled.set(schema, byDocument);
  }
  const documents = byDocument;
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return {
        executor: async (request) => {
          const { document, operationName } = request;
          let byName = documents.get(document);
          if (!byName) {
            byName = new Map();
            documents.set(document, byName);
          }
          const name = operationName ?? '';
          let query = byName.get(name);
          if (!query) {
            query = compileQuery(schema, document, operationName ?? undefined);
            byName.set(name, query);
          }
          // Variables are checked by graphql-js first: its messages say where a value is wrong and why.
          const variables = request.request.variables ?? {};
          const operation = getOperationAST(document, operationName);
          const coerced = operation?.variableDefinitions?.length
            ? getVariableValues(schema, operation.variableDefinitions, variables, { maxErrors: 50 })
            : null;
          if (coerced?.errors) return { errors: coerced.errors };
          const result = isCompiledQuery(query)
            ? await query.query(undefined, request.context, variables)
            : query;
          return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
        },
      };
    },
    async stop() {},
  };
}

/**
 * graphql-jit's own errors (bad variables, a compile failure) are not graphql-js GraphQLErrors and may lack
 * `extensions`, which Apollo's error formatting reads: give Apollo what graphql-js would have.
 */
function asGraphQLError(error: unknown): GraphQLError {
  const e = error as Partial<GraphQLError> & { message: string };
  if (error instanceof GraphQLError && e.extensions) return error;
  return new GraphQLError(e.message, {
    nodes: e.nodes,
    source: e.source,
    positions: e.positions,
    path: e.path,
    originalError: e.originalError ?? undefined,
    extensions: e.extensions ?? {},
  });
}
