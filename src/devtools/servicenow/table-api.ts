import type { AclOperation } from './access-control.ts';
import {
  invalidJson,
  invalidTable,
  methodNotSupported,
  noRecordFound,
  noRecordsMatchingQuery,
} from './api-failure.ts';
import type { ApiRequest, ApiResponse, EmulatorContext } from './api-types.ts';
import { type ParsedQuery, parseEncodedQuery } from './encoded-query.ts';
import { paginationLink, readPage } from './pagination.ts';
import { compileQuery } from './query-evaluate.ts';
import { type DisplayValueMode, type FormatOptions, formatRecord } from './record-format.ts';
import { insertRecord, updateRecord, type WriteContext } from './write-record.ts';

/** `/api/now/table/{table}[/{sys_id}]`, also under `/api/now/v1/` and `/api/now/v2/`. */
export const tableRoute = /^\/api\/now\/(?:(v1|v2)\/)?table\/([^/]+)(?:\/([^/]+))?\/?$/;

/** Serves one Table API request. Throws ApiFailure for the documented error answers. */
export function handleTableRequest(
  ctx: EmulatorContext,
  req: ApiRequest,
  match: RegExpExecArray,
): ApiResponse {
  const [, version, table = '', sysId] = match;
  if (!ctx.registry.has(table)) throw invalidTable(table);
  const params = req.url.searchParams;
  const format = (row: Record<string, string>) =>
    formatRecord({ ...ctx, baseUrl: req.baseUrl }, table, row, readFormat(params));
  const roles = req.user.roles ?? new Set<string>();
  const write: WriteContext = {
    ...ctx,
    user: req.user,
    inputDisplayValue: params.get('sysparm_input_display_value') === 'true',
    authorize: (change) => ctx.access.checkValues(roles, change.className, change.next, change.previous),
  };
  const check = (operation: AclOperation) => ctx.access.checkTable(roles, table, operation);
  const noBody = String(req.headers['x-no-response-body']).toLowerCase() === 'true';

  switch (req.method) {
    case 'GET':
    case 'HEAD': {
      check('read');
      if (sysId !== undefined) {
        const row = ctx.store.get(table, sysId);
        if (!row) throw noRecordFound();
        return { status: 200, body: { result: format(row.values) } };
      }
      return listRecords(ctx, req, table, version, format);
    }
    case 'POST': {
      if (sysId !== undefined) throw methodNotSupported(req.method);
      check('create');
      const row = insertRecord(write, table, readRecordBody(req.body));
      const location = `${req.baseUrl}/api/now/table/${table}/${row.values.sys_id}`;
      return {
        status: 201,
        headers: { Location: location },
        body: noBody ? undefined : { result: format(row.values) },
      };
    }
    case 'PUT':
    case 'PATCH': {
      if (sysId === undefined) throw methodNotSupported(req.method);
      check('write');
      const row = ctx.store.get(table, sysId);
      if (!row) throw noRecordFound();
      updateRecord(write, table, row, readRecordBody(req.body));
      return { status: 200, body: noBody ? undefined : { result: format(row.values) } };
    }
    case 'DELETE': {
      if (sysId === undefined) throw methodNotSupported(req.method);
      check('delete');
      if (!ctx.store.remove(table, sysId)) throw noRecordFound();
      return { status: 204 };
    }
    default:
      throw methodNotSupported(req.method);
  }
}

function listRecords(
  ctx: EmulatorContext,
  req: ApiRequest,
  table: string,
  version: string | undefined,
  format: (row: Record<string, string>) => Record<string, unknown>,
): ApiResponse {
  const params = req.url.searchParams;
  const page = readPage(params);
  const query = compileQuery(readQuery(ctx, table, params), {
    ...ctx,
    table,
    invalidQueryReturnsNoRows: ctx.invalidQueryReturnsNoRows,
  });
  // Array.prototype.sort is stable: without ORDERBY, and among ties, rows stay oldest first.
  const rows = ctx.store
    .list(table)
    .filter((row) => query.matches(row))
    .sort((a, b) => query.compare(a, b));
  const pageRows = rows.slice(page.offset, page.offset + page.limit);
  // v1 answers 404 where v2 (and the unversioned latest) answers an empty list.
  if (version === 'v1' && pageRows.length === 0) throw noRecordsMatchingQuery();
  const headers: Record<string, string> = {};
  if (params.get('sysparm_no_count') !== 'true') headers['X-Total-Count'] = String(rows.length);
  const link = paginationLink(req.url, page, rows.length);
  if (link && params.get('sysparm_suppress_pagination_header') !== 'true') headers.Link = link;
  return { status: 200, headers, body: { result: pageRows.map((row) => format(row.values)) } };
}

/** `sysparm_query`, or else `name=value` pairs, which may use display values (`&state=Closed`). */
function readQuery(ctx: EmulatorContext, table: string, params: URLSearchParams): ParsedQuery {
  const encoded = params.get('sysparm_query');
  if (encoded !== null) return parseEncodedQuery(encoded);
  const groups = [...params.entries()]
    .filter(([name]) => !name.startsWith('sysparm_'))
    .map(([field, value]) => {
      const choices = ctx.registry.field(table, field)?.choices ?? {};
      const stored = Object.entries(choices).find(
        ([, label]) => label.toLowerCase() === value.toLowerCase(),
      )?.[0];
      return [{ field, operator: '=' as const, value: stored ?? value }];
    });
  return { blocks: groups.length > 0 ? [groups] : [], orderBy: [], unparsed: [] };
}

function readFormat(params: URLSearchParams): FormatOptions {
  const fields = params.get('sysparm_fields');
  const display = (params.get('sysparm_display_value') ?? 'false').toLowerCase();
  return {
    fields: fields
      ? fields
          .split(',')
          .map((f) => f.trim())
          .filter((f) => f !== '')
      : undefined,
    displayValue: (['true', 'all'].includes(display) ? display : 'false') as DisplayValueMode,
    excludeReferenceLink: params.get('sysparm_exclude_reference_link') === 'true',
  };
}

/** POST/PUT/PATCH take one record; of an array only the first element counts. */
function readRecordBody(body: unknown): Record<string, unknown> {
  const record = Array.isArray(body) ? (body[0] ?? {}) : (body ?? {});
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw invalidJson();
  return record as Record<string, unknown>;
}
