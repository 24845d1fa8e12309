import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { ApolloServer, HTTPGraphQLRequest } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { type GraphQLSchema, Kind, parse, print, type TypeNode, validate } from 'graphql';
import type { HubHttpServer } from '../observability/index.ts';

/** schema/rest/operations.graphql: the queries served as GET endpoints (docs/graphql.md, "REST for BI tools"). */
export const defaultRestOperationsFile = new URL('../../schema/rest/operations.graphql', import.meta.url)
  .pathname;
export const restPrefix = '/rest';

export interface RestOperation {
  name: string;
  /** The operation with the file's fragments, printed: the body sent to /graphql (and sha256'd by a manifest). */
  query: string;
  variables: { name: string; type: TypeNode }[];
}

/**
 * The named queries of `file`, each checked against the schema. Throws one message naming the file and every
 * problem, so the hub does not start with an endpoint that cannot answer.
 */
export function loadRestOperations(file: string, schema: GraphQLSchema): Map<string, RestOperation> {
  const document = parse(readFileSync(file, 'utf8'));
  const problems = validate(schema, document).map((e) => `${file}: ${e.message}`);
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  const operations = new Map<string, RestOperation>();
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const where = `${file}:${def.loc?.startToken.line ?? '?'}`;
    if (!def.name) problems.push(`${where}: an operation needs a name; it becomes the path /rest/<name>`);
    else if (def.operation !== 'query')
      problems.push(`${where}: ${def.name.value} is a ${def.operation}; only queries are served over GET`);
    else
      operations.set(def.name.value, {
        name: def.name.value,
        query: print({ kind: Kind.DOCUMENT, definitions: [def, ...fragments] }),
        variables: (def.variableDefinitions ?? []).map((v) => ({
          name: v.variable.name.value,
          type: v.type,
        })),
      });
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return operations;
}

type Execute = ApolloServer<never>['executeHTTPGraphQLRequest'];

/**
 * Mounts GET /rest/<name> (JSON, or CSV with `Accept: text/csv`) and /rest/<name>.csv for each operation, and
 * /rest listing them. Each call is executed through `execute` (the /graphql server's executeHTTPGraphQLRequest
 * with its context), so authentication, field policy, limits and audit are those of /graphql.
 */
export function mountRest(
  http: HubHttpServer,
  operations: Map<string, RestOperation>,
  execute: (req: http.IncomingMessage, request: HTTPGraphQLRequest) => ReturnType<Execute>,
): void {
  http.route(restPrefix, (_req, res) =>
    sendJson(res, 200, {
      operations: [...operations.values()].map((o) => ({
        name: o.name,
        json: `${restPrefix}/${o.name}`,
        csv: `${restPrefix}/${o.name}.csv`,
        variables: Object.fromEntries(o.variables.map((v) => [v.name, print(v.type)])),
      })),
    }),
  );
  for (const operation of operations.values())
    for (const csvSuffix of [false, true])
      http.route(`${restPrefix}/${operation.name}${csvSuffix ? '.csv' : ''}`, async (req, res) => {
        if (req.method !== 'GET') {
          res.setHeader('allow', 'GET');
          return sendError(res, 405, `${restPrefix}/${operation.name} answers GET only`);
        }
        const csv = csvSuffix || (req.headers.accept ?? '').includes('text/csv');
        const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
        let variables: Record<string, unknown>;
        try {
          variables = variablesFrom(operation, params);
        } catch (err) {
          return sendError(res, 400, (err as Error).message);
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
          body: { query: operation.query, operationName: operation.name, variables },
        });
        let text = '';
        if (response.body.kind === 'complete') text = response.body.string;
        else for await (const chunk of response.body.asyncIterator) text += chunk;
        const status = response.status ?? 200;
        const answer = JSON.parse(text) as {
          data?: Record<string, unknown> | null;
          errors?: { message: string }[];
        };
        if (!csv || !answer.data) {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
          return void res.end(text);
        }
        const headersOut: Record<string, string> = {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="${operation.name}.csv"`,
        };
        // CSV has no place for errors (e.g. a field the role may not read): the count and the distinct
        // messages go in headers, the cells of such fields are empty.
        if (answer.errors?.length) {
          headersOut['x-graphql-error-count'] = String(answer.errors.length);
          headersOut['x-graphql-errors'] = headerSafe(
            [...new Set(answer.errors.map((e) => e.message))].join(' | '),
          );
        }
        res.writeHead(status, headersOut);
        res.end(toCsv(rowsOf(answer.data)));
      });
}

/** The query string as the operation's variables: numbers and booleans parsed, a list from `a,b` or repeats. */
export function variablesFrom(operation: RestOperation, params: URLSearchParams): Record<string, unknown> {
  const known = new Map(operation.variables.map((v) => [v.name, v.type]));
  const variables: Record<string, unknown> = {};
  for (const name of new Set(params.keys())) {
    const type = known.get(name);
    if (!type)
      throw new Error(
        `unknown parameter '${name}'; ${restPrefix}/${operation.name} takes ${operation.variables.map((v) => `${v.name}: ${print(v.type)}`).join(', ') || 'none'}`,
      );
    variables[name] = coerce(name, params.getAll(name), type);
  }
  return variables;
}

function coerce(name: string, values: string[], type: TypeNode): unknown {
  if (type.kind === Kind.NON_NULL_TYPE) return coerce(name, values, type.type);
  if (type.kind === Kind.LIST_TYPE)
    return values
      .flatMap((v) => v.split(','))
      .filter((v) => v !== '')
      .map((v) => coerce(name, [v], type.type));
  const value = values.at(-1)!;
  switch (type.name.value) {
    case 'Int':
      if (!/^-?\d+$/.test(value))
        throw new Error(`parameter '${name}' must be a whole number, got '${value}'`);
      return Number(value);
    case 'Float':
      if (value.trim() === '' || !Number.isFinite(Number(value)))
        throw new Error(`parameter '${name}' must be a number, got '${value}'`);
      return Number(value);
    case 'Boolean':
      if (value !== 'true' && value !== 'false')
        throw new Error(`parameter '${name}' must be true or false, got '${value}'`);
      return value === 'true';
    default:
      // IDs, strings, enums and DateTime go as text; GraphQL checks them against the schema (400 when wrong).
      return value;
  }
}

/**
 * The answer as rows: with one root field that is a list, one row per item; otherwise one row. Nested objects
 * become columns a.b.c; a nested list of scalars is joined with ';', a nested list of objects is kept as JSON.
 */
export function rowsOf(data: Record<string, unknown>): Record<string, unknown>[] {
  const roots = Object.entries(data);
  const items =
    roots.length === 1 && Array.isArray(roots[0]![1])
      ? (roots[0]![1] as unknown[])
      : [roots.length === 1 ? roots[0]![1] : data];
  return items.map((item) => {
    const row: Record<string, unknown> = {};
    flatten(item, '', row);
    return row;
  });
}

function flatten(value: unknown, prefix: string, row: Record<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, row);
    return;
  }
  const column = prefix || 'value';
  if (Array.isArray(value))
    row[column] = value.every((v) => v === null || typeof v !== 'object')
      ? value.join(';')
      : JSON.stringify(value);
  else row[column] = value;
}

/** RFC 4180 text, a header line of the columns in the order they first appear. */
export function toCsv(rows: Record<string, unknown>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [columns.map(cell).join(',')];
  for (const row of rows) lines.push(columns.map((c) => cell(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  // A text starting like a formula would run as one when a spreadsheet opens the file (CSV injection).
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function headerSafe(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 1000 ? `${ascii.slice(0, 997)}...` : ascii;
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
