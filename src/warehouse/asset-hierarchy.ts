import type pg from 'pg';

/**
 * Rebuilds what the asset hierarchy implies from the current dw.dim_asset rows: each asset's ltree path
 * (labels from ids, never names), its flattened site/area/line, and the closure table
 * dw.bridge_asset_hierarchy. Change events arrive in any order (a snapshot reads children before their
 * parents), so this runs after each batch of asset changes over the whole current tree: a plant has thousands
 * of assets, not millions. A node whose parent is missing is a root; a cycle is cut where it closes.
 * Returns the number of assets whose path or levels changed.
 */
export async function rebuildAssetHierarchy(client: pg.ClientBase): Promise<number> {
  const tree = `
    WITH RECURSIVE current AS (
      SELECT asset_sk, asset_nk, asset_level, asset_name, parent_asset_nk FROM dw.dim_asset
      WHERE is_current AND asset_sk > 0),
    tree AS (
      SELECT c.asset_sk, c.asset_nk, ARRAY[c.asset_nk] AS nks, ARRAY[c.asset_level] AS levels,
             ARRAY[c.asset_name] AS names
      FROM current c
      WHERE c.parent_asset_nk IS NULL OR NOT EXISTS (SELECT 1 FROM current p WHERE p.asset_nk = c.parent_asset_nk)
      UNION ALL
      SELECT c.asset_sk, c.asset_nk, t.nks || c.asset_nk, t.levels || c.asset_level, t.names || c.asset_name
      FROM current c JOIN tree t ON c.parent_asset_nk = t.asset_nk
      WHERE c.asset_nk <> ALL (t.nks))`;
  const { rowCount } = await client.query(`${tree},
    shaped AS (
      SELECT asset_sk,
             (SELECT string_agg('n' || substr(md5(x), 1, 8), '.' ORDER BY i) FROM unnest(nks) WITH ORDINALITY u(x, i))::ltree AS path,
             nks[array_position(levels, 'site')] AS site_nk, names[array_position(levels, 'site')] AS site_name,
             nks[array_position(levels, 'area')] AS area_nk, names[array_position(levels, 'area')] AS area_name,
             nks[array_position(levels, 'line')] AS line_nk, names[array_position(levels, 'line')] AS line_name
      FROM tree)
    UPDATE dw.dim_asset a SET hierarchy_path = s.path, site_nk = s.site_nk, site_name = s.site_name,
      area_nk = s.area_nk, area_name = s.area_name, line_nk = s.line_nk, line_name = s.line_name
    FROM shaped s
    WHERE a.asset_sk = s.asset_sk
      AND (a.hierarchy_path, a.site_nk, a.site_name, a.area_nk, a.area_name, a.line_nk, a.line_name)
          IS DISTINCT FROM (s.path, s.site_nk, s.site_name, s.area_nk, s.area_name, s.line_nk, s.line_name)`);
  await client.query('DELETE FROM dw.bridge_asset_hierarchy');
  await client.query(`${tree}
    INSERT INTO dw.bridge_asset_hierarchy (ancestor_asset_nk, descendant_asset_nk, depth_from_ancestor, is_leaf)
    SELECT u.x, t.asset_nk, cardinality(t.nks) - u.i,
           NOT EXISTS (SELECT 1 FROM tree c WHERE c.nks[cardinality(c.nks) - 1] = t.asset_nk AND cardinality(c.nks) > 1)
    FROM tree t, unnest(t.nks) WITH ORDINALITY u(x, i)
    ON CONFLICT DO NOTHING`);
  return rowCount ?? 0;
}
