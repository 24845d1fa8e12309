// The semantic layer's face (docs/graphql.md, "Semantic metrics"): cubes from schema/semantic/*.yaml compiled to
// one parameterised SQL statement per question; the server merges semanticResolvers.
export {
  type CompiledMetricsQuery,
  compileMetricsQuery,
  type FilterOperator,
  type MetricsColumn,
  MetricsQueryError,
  type MetricsRequest,
} from './compile.ts';
export { type Cube, type Granularity, loadSemanticModel, type SemanticModel } from './model.ts';
export { semanticResolvers } from './resolvers.ts';
