import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from '@apollo/server/plugin/disabled';
import type { IResolvers } from '@graphql-tools/utils';
import { GraphQLError, type GraphQLSchema, parse } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type pg from 'pg';
import { WebSocketServer } from 'ws';
import type { HubConfig } from '../config/index.ts';
import { loadContracts, ProductStatusBoard, registerProductGauges } from '../contracts/index.ts';
import { loadMappings } from '../mapping/index.ts';
import type { HubHttpServer, Logger } from '../observability/index.ts';
import type { HubContext } from './context.ts';
import { dataProductResolvers, mountContractRoutes } from './data-products.ts';
import { DimensionCache } from './dimension-cache.ts';
import {
  applyFieldPolicy,
  authenticate,
  checkSubscription,
  governanceOptions,
  loadPolicy,
  newAuditTrail,
  type Policy,
  type Principal,
} from './governance/index.ts';
import { type IncidentSource, ServiceNowIncidents } from './incidents.ts';
import { jitGateway } from './jit-executor.ts';
import { createLoaders } from './loaders.ts';
import { entityReferenceResolvers, hubResolvers } from './resolvers/index.ts';
import { defaultRestOperationsFile, loadRestOperations, mountRest } from './rest.ts';
import { buildHubSchema, defaultSchemaDir } from './schema.ts';
import { semanticResolvers } from './semantic/index.ts';

/** Where the API answers, for HTTP and graphql-ws alike. */
export const graphqlPath = '/graphql';
/** Active subscriptions one WebSocket may hold. */
const maxSubscriptionsPerConnection = 20;
/** Request bodies above this are refused before parsing. */
const maxBodyBytes = 1024 * 1024;

export interface GraphqlOptions {
  http: HubHttpServer;
  /** The warehouse pool resolvers use (the hub's database). */
  db: pg.Pool;
  servicenow: HubConfig['servicenow'];
  logger: Logger;
  /** schema/policy.yaml unless given. */
  policyFile?: string;
  schemaDir?: string;
  /** Mapping files for lineage; default the mappings/ folder. */
  mappingPaths?: string[];
  /** Replaces the ServiceNow Table API reader (tests). */
  incidents?: IncidentSource;
  /** How long an incident read is reused. @defaultValue 30000 */
  incidentCacheMs?: number;
  /** Masks internal error text (also on when NODE_ENV=production). */
  production?: boolean;
  /** The queries served at /rest/<name>; schema/rest/operations.graphql unless given. */
  restOperationsFile?: string;
  /** The data contracts served as data products; contracts/ unless given (docs/data-products.md). */
  contractsDir?: string;
}

export interface RunningGraphql {
  schema: GraphQLSchema;
  /** Resolves when the API can answer: started and its database reachable. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The GraphQL stage: Apollo Server 5 on the hub's HTTP port at /graphql (CSRF prevention on), and graphql-ws
 * subscriptions on the same path, both governed by schema/policy.yaml (docs/graphql.md).
 */
export async function startGraphql(options: GraphqlOptions): Promise<RunningGraphql> {
  const { db, logger } = options;
  const policy: Policy = loadPolicy(options.policyFile);
  const mappings = loadMappings(options.mappingPaths).mappings;
  const incidents =
    options.incidents ??
    new ServiceNowIncidents({
      url: options.servicenow.url,
      auth: options.servicenow.auth,
      cacheMs: options.incidentCacheMs,
    });
  const production = options.production ?? process.env.NODE_ENV === 'production';
  const contracts = loadContracts(options.contractsDir);
  const products = new ProductStatusBoard({ db, contracts: () => contracts });
  const resolvers = [
    hubResolvers({ mappings: () => mappings, logger }) as IResolvers,
    semanticResolvers as IResolvers,
    dataProductResolvers(products, () => contracts) as IResolvers,
    entityReferenceResolvers as IResolvers,
  ];
  const schema = applyFieldPolicy(buildHubSchema(resolvers, options.schemaDir ?? defaultSchemaDir), policy);
  const dimensions = new DimensionCache({ pool: db, logger });
  await dimensions.start();
  const contextFor = (principal: Principal): HubContext => {
    const audit = newAuditTrail();
    return {
      principal,
      db,
      audit,
      servicenow: incidents,
      loaders: createLoaders(db, principal, audit, incidents, dimensions),
    };
  };

  const governance = governanceOptions<HubContext>(policy, { db, production });
  const apollo = new ApolloServer<HubContext>({
    // graphql-jit executes (jit-executor.ts); the schema comes through the gateway interface.
    gateway: jitGateway(schema),
    csrfPrevention: true,
    ...governance,
    // A subgraph schema turns on federated tracing by default; its timings are not for clients of the hub. Cache
    // hints are not used (no CDN in front): without the plugin Apollo does not wrap every resolver.
    plugins: [
      ...governance.plugins,
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await apollo.start();

  let stopped = false;
  // REST for BI tools: the same Apollo server and context, so the same governance (docs/graphql.md).
  const restOperations = loadRestOperations(options.restOperationsFile ?? defaultRestOperationsFile, schema);
  const executeRest = async (req: http.IncomingMessage, httpGraphQLRequest: HTTPGraphQLRequest) => {
    if (stopped) throw new Error('the GraphQL API is stopping');
    return apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => contextFor(await authenticate(req.headers, policy)),
    });
  };
  mountRest(options.http, restOperations, executeRest);
  mountContractRoutes(
    options.http,
    contracts.map((c) => c.contract.id),
    executeRest,
  );
  const unregisterGauges = registerProductGauges(products, () => contracts.map((c) => c.contract.id));
  options.http.route(graphqlPath, async (req, res) => {
    if (stopped) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'the GraphQL API is stopping' }] }));
      return;
    }
    const request = await toGraphQLRequest(req);
    if ('error' in request) {
      res.writeHead(request.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: request.error, extensions: { code: 'BAD_REQUEST' } }] }));
      return;
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: request,
      context: async () => contextFor(await authenticate(req.headers, policy)),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  });

  // graphql-ws: Apollo's plugins do not run here, so authentication and limits run in onConnect/onSubscribe.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '/').split('?')[0] !== graphqlPath) {
      if (options.http.server.listenerCount('upgrade') === 1) socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  options.http.server.on('upgrade', onUpgrade);
  const principals = new WeakMap<object, Principal>();
  const ws = useServer<Record<string, unknown> | undefined, { principal?: Principal }>(
    {
      schema,
      connectionInitWaitTimeout: 5000,
      onConnect: async (ctx) => {
        try {
          principals.set(ctx, await authenticate(wsHeaders(ctx.extra.request, ctx.connectionParams), policy));
          return true;
        } catch (err) {
          // Close with the reason a person can act on (what to send), not a bare "Forbidden".
          ctx.extra.socket.close(CloseCode.Forbidden, closeReason((err as Error).message));
          return false;
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const principal = principals.get(ctx);
        if (!principal) return [new GraphQLError('not authenticated')];
        // graphql-ws has already registered this operation's id.
        if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection)
          return [
            new GraphQLError(
              `at most ${maxSubscriptionsPerConnection} subscriptions per connection; complete one before starting another`,
            ),
          ];
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError((err as Error).message)];
        }
        const errors = checkSubscription({
          schema,
          policy,
          principal,
          document,
          source: payload.query,
          variables: payload.variables ?? undefined,
          operationName: payload.operationName,
        });
        return errors.length > 0 ? [...errors] : undefined;
      },
      context: (ctx) => contextFor(principals.get(ctx)!),
    },
    wss,
  );

  return {
    schema,
    ready: async () => {
      if (stopped) throw new Error('stopped');
      await db.query('SELECT 1');
    },
    stop: async () => {
      stopped = true;
      options.http.server.off('upgrade', onUpgrade);
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await apollo.stop();
      await dimensions.stop();
      unregisterGauges();
    },
  };
}

/** The HTTP request as Apollo takes it; a body that is too large or not JSON is answered here. */
async function toGraphQLRequest(
  req: http.IncomingMessage,
): Promise<HTTPGraphQLRequest | { status: number; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes)
      return { status: 413, error: `the request body is larger than ${maxBodyBytes} bytes` };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers))
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  let body: unknown = text;
  if ((headers.get('content-type') ?? '').includes('json') && text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch (err) {
      return { status: 400, error: `the request body is not valid JSON: ${(err as Error).message}` };
    }
  }
  const search = new URL(req.url ?? '/', 'http://localhost').search;
  return { method: (req.method ?? 'GET').toUpperCase(), headers, search, body };
}

/**
 * Browsers cannot set headers on a WebSocket, so connection_init's payload may carry them
 * (e.g. { authorization: "Bearer …" }); they win over the upgrade request's.
 */
function wsHeaders(
  request: http.IncomingMessage,
  params: Record<string, unknown> | undefined,
): Record<string, string | string[] | undefined> {
  const headers: Record<string, string | string[] | undefined> = { ...request.headers };
  for (const [key, value] of Object.entries(params ?? {}))
    if (typeof value === 'string') headers[key.toLowerCase()] = value;
  return headers;
}

/** WebSocket close reasons stop at 123 bytes. */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 123
    ? message
    : `${Buffer.from(message).subarray(0, 120).toString()}...`;
}
