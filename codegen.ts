import type { CodegenConfig } from '@graphql-codegen/cli';

// `npm run codegen` regenerates src/graphql/generated/types.ts from every schema/*.graphql file (docs/graphql.md,
// "Running"); test/unit/graphql/codegen.test.ts fails when the committed file is stale.
const config: CodegenConfig = {
  schema: 'schema/*.graphql',
  // The file is committed, so it is formatted like the rest of the code.
  hooks: { afterOneFileWrite: ['biome check --write'] },
  generates: {
    'src/graphql/generated/types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        contextType: '../context.ts#HubContext',
        useTypeImports: true,
        useIndexSignature: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'Date', JSON: 'unknown' },
        mappers: {
          Site: '../rows.ts#SiteRow',
          Asset: '../rows.ts#AssetRow',
          Device: '../rows.ts#DeviceRow',
          ConfigurationItem: '../rows.ts#CmdbCiRow',
          Metric: '../rows.ts#MetricRow',
          Reading: '../rows.ts#ReadingRow',
          ReadingEdge: '../rows.ts#ReadingEdgeRow',
          ReadingConnection: '../rows.ts#ReadingConnectionRow',
          LiveReadings: '../rows.ts#LiveReadingsRow',
          HourlyRollup: '../rows.ts#HourlyRow',
          DataQualityEvent: '../rows.ts#DqEventRow',
          Alert: '../rows.ts#AlertRow',
          Incident: '../rows.ts#IncidentRow',
          MaintenanceEvent: '../rows.ts#MaintenanceRow',
        },
      },
    },
  },
};

export default config;
