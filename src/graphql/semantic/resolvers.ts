import { GraphQLError, GraphQLScalarType } from 'graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { HubContext } from '../context.ts';
import {
  compileMetricsQuery,
  type FilterOperator,
  MetricsQueryError,
  type MetricsRequest,
} from './compile.ts';
import { type Granularity, loadSemanticModel, type SemanticModel } from './model.ts';

/** Loaded once per process; the files are part of the deployment, like the SDL. */
let model: SemanticModel | null = null;
function semanticModel(): SemanticModel {
  model ??= loadSemanticModel();
  return model;
}

const lower = <T extends string>(v: string) => v.toLowerCase() as T;
const camel = (v: string) => v.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

interface MetricsArgs {
  measures: string[];
  dimensions?: string[] | null;
  timeDimension?: {
    dimension: string;
    granularity?: string | null;
    from?: string | null;
    to?: string | null;
  } | null;
  filters?: { member: string; operator: string; values?: string[] | null }[] | null;
  segments?: string[] | null;
  order?: { member: string; direction?: string | null }[] | null;
  limit?: number | null;
}

/** The GraphQL request in the compiler's terms (enum values to lower case). */
function toRequest(args: MetricsArgs): MetricsRequest {
  return {
    measures: args.measures,
    dimensions: args.dimensions,
    timeDimension: args.timeDimension && {
      ...args.timeDimension,
      granularity: args.timeDimension.granularity ? lower<Granularity>(args.timeDimension.granularity) : null,
    },
    filters: args.filters?.map((f) => ({ ...f, operator: camel(f.operator) as FilterOperator })),
    segments: args.segments,
    order: args.order?.map((o) => ({ member: o.member, direction: o.direction === 'DESC' ? 'desc' : 'asc' })),
    limit: args.limit,
  };
}

/** Query.metrics and Query.metricsModel; merged into the server's resolvers (src/graphql/server.ts). */
export const semanticResolvers = {
  MetricsRecord: new GraphQLScalarType({ ...GraphQLJSONObject.toConfig(), name: 'MetricsRecord' }),
  Query: {
    async metrics(_parent: unknown, args: MetricsArgs, ctx: HubContext) {
      let compiled: ReturnType<typeof compileMetricsQuery>;
      try {
        compiled = compileMetricsQuery(semanticModel(), toRequest(args), { sites: ctx.principal.sites });
      } catch (err) {
        if (err instanceof MetricsQueryError)
          throw new GraphQLError(err.message, { extensions: { code: err.code, http: { status: 400 } } });
        throw err;
      }
      const { rows } = await ctx.db.query(compiled.sql, compiled.params);
      ctx.audit.rows += rows.length;
      const visibleTo = compiled.cube.sql_visible_to ?? ['admin'];
      return {
        cube: compiled.cube.cube,
        columns: compiled.columns.map((c) => ({ ...c, kind: c.kind.toUpperCase() })),
        rows,
        usedRollup: compiled.usedRollup,
        rollupNote: compiled.rollupNote,
        sql: visibleTo.includes(ctx.principal.role)
          ? `${compiled.sql}\n-- parameters: ${JSON.stringify(compiled.params)}`
          : null,
      };
    },
    metricsModel() {
      return [...semanticModel().cubes.values()].map((cube) => {
        const members = (names: Record<string, { description?: string }> | undefined, rollupOnly = false) =>
          Object.entries(names ?? {}).map(([name, m]) => ({
            name: `${cube.cube}.${name}`,
            description: m.description ?? null,
            rollupOnly: rollupOnly && !('sql' in m && m.sql !== undefined),
          }));
        return {
          name: cube.cube,
          title: cube.title ?? null,
          description: cube.description ?? null,
          measures: members(cube.measures, true),
          dimensions: members(cube.dimensions),
          segments: members(cube.segments),
          timeDimension: cube.time_dimension
            ? { name: `${cube.cube}.${cube.time_dimension.name}`, description: null, rollupOnly: false }
            : null,
          granularities: (cube.time_dimension?.granularities ?? []).map((g) => g.toUpperCase()),
          rollupGrain: cube.rollup?.grain.toUpperCase() ?? null,
        };
      });
    },
  },
};
