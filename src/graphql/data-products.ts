import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { type ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { IResolvers } from '@graphql-tools/utils';
import {
  type ContractFile,
  contractOwner,
  type ProductStatus,
  type ProductStatusBoard,
} from '../contracts/index.ts';
import type { HubHttpServer } from '../observability/index.ts';
import type { HubContext } from './context.ts';

// Data products over GraphQL and GET /data-products/{id}/contract (docs/data-products.md, "Served"). The REST
// route runs a GraphQL query through the /graphql server, so authentication, roles, field classification, limits
// and the audit log are those of the API.

export const dataProductsPrefix = '/data-products';

interface ProductParent {
  file: ContractFile;
}

/** The resolvers of schema/data-products.graphql over the loaded contracts and the status board. */
export function dataProductResolvers(
  board: ProductStatusBoard,
  contracts: () => readonly ContractFile[],
): IResolvers<unknown, HubContext> {
  const product = (file: ContractFile | undefined): ProductParent | null => (file ? { file } : null);
  return {
    Query: {
      dataProducts: (_: unknown, __: unknown, ctx: HubContext) => {
        const all = contracts().map((file) => ({ file }));
        ctx.audit.rows += all.length;
        return all;
      },
      dataProduct: (_: unknown, args: { id: string }, ctx: HubContext) => {
        const found = product(contracts().find((c) => c.contract.id === args.id));
        if (found) ctx.audit.rows += 1;
        return found;
      },
    },
    DataProduct: {
      id: (p: ProductParent) => p.file.contract.id,
      name: (p: ProductParent) => p.file.contract.name ?? null,
      version: (p: ProductParent) => p.file.contract.version,
      status: (p: ProductParent) => p.file.contract.status,
      owner: (p: ProductParent) => contractOwner(p.file.contract),
      team: (p: ProductParent) => p.file.contract.team?.name ?? null,
      purpose: (p: ProductParent) => p.file.contract.description?.purpose ?? null,
      support: (p: ProductParent) =>
        (p.file.contract.support ?? []).map((s) => (s.tool ? `${s.channel} (${s.tool})` : s.channel)),
      objectives: (p: ProductParent) =>
        (p.file.contract.slaProperties ?? []).map((s) => ({
          ...s,
          value: s.value === null ? null : String(s.value),
        })),
      contractPath: (p: ProductParent) => contractPath(p.file.contract.id),
      // Read per request: the file is small, and an edited contract is served as it is on disk.
      contract: (p: ProductParent) => readFileSync(p.file.file, 'utf8'),
      measured: (p: ProductParent) => board.status(p.file.contract.id),
    },
    DataProductStatus: {
      failingChecks: (s: ProductStatus) => s.failing,
    },
  };
}

export function contractPath(id: string): string {
  return `${dataProductsPrefix}/${encodeURIComponent(id)}/contract`;
}

const contractQuery = 'query DataProductContract($id: ID!) { dataProduct(id: $id) { contract } }';

/**
 * Mounts GET /data-products/{id}/contract for each contract: the YAML (application/yaml) when the caller may read
 * it, else GraphQL's JSON answer with its status (401 without credentials, 403 for a refused role).
 */
export function mountContractRoutes(
  server: HubHttpServer,
  ids: readonly string[],
  execute: (req: http.IncomingMessage, request: HTTPGraphQLRequest) => ReturnType<ExecuteHttp>,
): void {
  for (const id of ids)
    server.route(contractPath(id), async (req, res) => {
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET', 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({ errors: [{ message: `${contractPath(id)} answers GET only` }] }),
        );
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers))
        if (value !== undefined && key !== 'content-length')
          headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      headers.set('content-type', 'application/json');
      headers.set('accept', 'application/json');
      const response = await execute(req, {
        method: 'POST',
        headers,
        search: '',
        body: { query: contractQuery, operationName: 'DataProductContract', variables: { id } },
      });
      let text = '';
      if (response.body.kind === 'complete') text = response.body.string;
      else for await (const chunk of response.body.asyncIterator) text += chunk;
      const answer = JSON.parse(text) as {
        data?: { dataProduct?: { contract?: string } | null } | null;
        errors?: unknown[];
      };
      const yaml = answer.data?.dataProduct?.contract;
      if (yaml && !answer.errors?.length) {
        res.writeHead(200, { 'content-type': 'application/yaml; charset=utf-8' });
        return void res.end(yaml);
      }
      const status = response.status && response.status !== 200 ? response.status : 403;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(text);
    });
}

type ExecuteHttp = ApolloServer<never>['executeHTTPGraphQLRequest'];
