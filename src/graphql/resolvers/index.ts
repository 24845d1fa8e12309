import { GraphQLScalarType } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { CompiledMapping } from '../../mapping/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { HubContext } from '../context.ts';
import type { Resolvers } from '../generated/types.ts';
import { entityReferenceResolvers, entityResolvers } from './entities.ts';
import { rootResolvers } from './root.ts';
import { subscriptionResolvers } from './subscriptions.ts';

/**
 * graphql-scalars' DateTime, serialised to the ISO 8601 text a Date becomes in JSON: the same answer, but a
 * response of plain strings takes JSON.stringify's fast path, which a Date's toJSON leaves.
 */
const DateTime = new GraphQLScalarType({
  ...DateTimeResolver.toConfig(),
  serialize: (value) => {
    const date = DateTimeResolver.serialize(value);
    return date instanceof Date ? date.toISOString() : date;
  },
});

/** The resolvers of schema/hub.graphql. */
export function hubResolvers(deps: {
  mappings: () => readonly CompiledMapping[];
  logger: Logger;
}): Resolvers<HubContext> {
  return {
    DateTime,
    JSON: JSONResolver,
    Query: rootResolvers(deps.mappings),
    Subscription: subscriptionResolvers(deps.logger),
    ...entityResolvers,
  };
}

/** `__resolveReference` of the federation entities Site, Asset and Device (docs/graphql.md, "Federation"). */
export { entityReferenceResolvers };
