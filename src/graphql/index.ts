// The GraphQL stage's public face (docs/graphql.md): the server on the hub's HTTP port, its request context,
// and the lineage of its fields. Other stages import only from here.

export type { AuditTrail, HubContext, Principal } from './context.ts';
export { type IncidentSource, ServiceNowIncidents } from './incidents.ts';
export { type FieldLineage, fieldColumns, fieldLineage } from './lineage.ts';
export type { Loaders } from './loaders.ts';
export { buildHubSchema, readSchemaFiles } from './schema.ts';
export { type GraphqlOptions, graphqlPath, type RunningGraphql, startGraphql } from './server.ts';
