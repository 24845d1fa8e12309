import { invalidLimit, negativeOffset } from './api-failure.ts';

/** One page of a list GET: `sysparm_limit` (default 10000) and `sysparm_offset` (default 0). */
export interface Page {
  limit: number;
  offset: number;
}

/** Reads the page parameters; throws the documented 400s for a limit ≤ 0 and a negative offset. */
export function readPage(params: URLSearchParams): Page {
  const limitText = params.get('sysparm_limit') ?? '';
  const offsetText = params.get('sysparm_offset') ?? '';
  const limit = limitText === '' ? 10000 : Number.parseInt(limitText, 10);
  if (!Number.isInteger(limit) || limit <= 0) throw invalidLimit();
  const offset = offsetText === '' ? 0 : Number.parseInt(offsetText, 10);
  if (offset < 0) throw negativeOffset(offsetText);
  return { limit, offset: Number.isInteger(offset) ? offset : 0 };
}

/**
 * The `Link` header of a list answer: absolute URLs, `rel` first/prev/next/last joined by a comma without a
 * space; prev left out on the first page, next on the last. Undefined when everything fits on one page, as
 * the real captures show.
 */
export function paginationLink(requestUrl: URL, page: Page, total: number): string | undefined {
  if (total <= page.limit && page.offset === 0) return undefined;
  const at = (offset: number): string => {
    const url = new URL(requestUrl);
    url.searchParams.delete('sysparm_limit');
    url.searchParams.delete('sysparm_offset');
    url.searchParams.append('sysparm_limit', String(page.limit));
    url.searchParams.append('sysparm_offset', String(offset));
    return url.toString();
  };
  const lastOffset = Math.max(0, Math.floor((total - 1) / page.limit) * page.limit);
  const links = [`<${at(0)}>;rel="first"`];
  if (page.offset > 0) links.push(`<${at(Math.max(0, page.offset - page.limit))}>;rel="prev"`);
  if (page.offset + page.limit < total) links.push(`<${at(page.offset + page.limit)}>;rel="next"`);
  links.push(`<${at(lastOffset)}>;rel="last"`);
  return links.join(',');
}
