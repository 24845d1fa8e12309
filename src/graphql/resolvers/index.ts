import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { CompiledMapping } from '../../mapping/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { HubContext } from '../context.ts';
import type { Resolvers } from '../generated/types.ts';
import { entityReferenceResolvers, entityResolvers } from './entities.ts';
import { rootResolvers } from './root.ts';
import { subscriptionResolvers } from './subscriptions.ts';

/** The resolvers of schema/hub.graphql. */
export function hubResolvers(deps: {
  mappings: () => readonly CompiledMapping[];
  logger: Logger;
}): Resolvers<HubContext> {
  return {
    DateTime: DateTimeResolver,
    JSON: JSONResolver,
    Query: rootResolvers(deps.mappings),
    Subscription: subscriptionResolvers(deps.logger),
    ...entityResolvers,
  };
}

/** `__resolveReference` of the federation entities Site, Asset and Device (docs/graphql.md, "Federation"). */
export { entityReferenceResolvers };
