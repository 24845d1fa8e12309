import type { Principal } from './types.ts';

/**
 * The row filter as a SQL condition for node-postgres (docs/graphql.md, "Roles and row filters"):
 * `<siteColumn> = ANY($n)` with the principal's sites, or TRUE for a principal who sees all sites.
 * `siteColumn` is SQL written by the caller (e.g. `a.site_nk` of dw.dim_asset), never user input.
 */
export function siteCondition(
  principal: Principal,
  siteColumn: string,
  parameterIndex: number,
): { sql: string; values: unknown[] } {
  if (principal.sites === null) return { sql: 'TRUE', values: [] };
  return { sql: `${siteColumn} = ANY($${parameterIndex}::text[])`, values: [principal.sites] };
}
