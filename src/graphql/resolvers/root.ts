import type { CompiledMapping } from '../../mapping/index.ts';
import { firstArg, timeRange, userError } from '../args.ts';
import type { HubContext } from '../context.ts';
import type { QueryResolvers } from '../generated/types.ts';
import { fieldLineage } from '../lineage.ts';
import type { AlertRow, AssetRow, DeviceRow, DqEventRow, MaintenanceRow, MetricRow } from '../rows.ts';
import {
  alertColumns,
  alertVisible,
  assetColumns,
  assetVisible,
  deviceColumns,
  deviceVisible,
  dqColumns,
  factVisible,
  maintenanceColumns,
  metricColumns,
  prepared,
} from '../sql.ts';

/** Runs one root statement and counts its rows for the audit. */
async function rows<T>(ctx: HubContext, sql: string, params: unknown[]): Promise<T[]> {
  const result = await ctx.db.query(prepared(sql, params));
  ctx.audit.rows += result.rows.length;
  return result.rows as T[];
}

/** An unknown metric code is the caller's mistake: say which codes exist. */
export async function checkMetric(ctx: HubContext, code: string | null | undefined): Promise<string | null> {
  if (code === null || code === undefined) return null;
  if (await ctx.loaders.metricByCode.load(code)) return code;
  const known = await rows<{ code: string }>(
    ctx,
    `SELECT metric_code AS code FROM dw.dim_metric WHERE metric_sk <> -1 ORDER BY 1`,
    [],
  );
  throw userError(`unknown metric '${code}'; known metrics: ${known.map((m) => m.code).join(', ')}`);
}

export function rootResolvers(mappings: () => readonly CompiledMapping[]): QueryResolvers<HubContext> {
  return {
    sites: (_p, _a, ctx) =>
      rows<AssetRow>(
        ctx,
        `SELECT ${assetColumns('a')} FROM dw.dim_asset a
         WHERE a.is_current AND a.asset_level = 'site' AND ${assetVisible('a', '$1')} ORDER BY a.asset_name`,
        [ctx.principal.sites],
      ),
    site: async (_p, { id }, ctx) => {
      const asset = await ctx.loaders.asset.load(id);
      return asset?.level === 'site' ? asset : null;
    },
    asset: (_p, { id }, ctx) => ctx.loaders.asset.load(id),
    assets: (_p, { level, first }, ctx) =>
      rows<AssetRow>(
        ctx,
        `SELECT ${assetColumns('a')} FROM dw.dim_asset a
         WHERE a.is_current AND a.asset_sk <> -1 AND ($1::text IS NULL OR a.asset_level = $1)
           AND ${assetVisible('a', '$2')}
         ORDER BY a.hierarchy_path LIMIT $3`,
        [level ?? null, ctx.principal.sites, firstArg(first)],
      ),
    device: (_p, { id, asOf }, ctx) =>
      asOf ? ctx.loaders.deviceAsOf.load({ id, at: asOf }) : ctx.loaders.device.load(id),
    devices: (_p, { underAsset, first }, ctx) =>
      underAsset
        ? ctx.loaders.devicesUnder.load({ id: underAsset, first: firstArg(first) })
        : rows<DeviceRow>(
            ctx,
            `SELECT ${deviceColumns('d')} FROM dw.dim_device d
             WHERE d.is_current AND d.device_sk <> -1 AND ${deviceVisible('d', '$1')}
             ORDER BY d.device_nk LIMIT $2`,
            [ctx.principal.sites, firstArg(first)],
          ),
    metricDefinitions: (_p, _a, ctx) =>
      rows<MetricRow>(
        ctx,
        `SELECT ${metricColumns('m')} FROM dw.dim_metric m WHERE m.metric_sk <> -1 ORDER BY m.metric_code`,
        [],
      ),
    readings: async (_p, { deviceId, from, to, metric, first, after }, ctx) => {
      timeRange(from, to);
      return ctx.loaders.readings.load({
        deviceId,
        from,
        to,
        metric: await checkMetric(ctx, metric),
        first: firstArg(first),
        after: after ?? null,
      });
    },
    alerts: (_p, { status, deviceId, first }, ctx) =>
      rows<AlertRow>(
        ctx,
        `SELECT ${alertColumns('al')} FROM hub.alert al
         WHERE ($1::text[] IS NULL OR al.status = ANY($1::text[])) AND ($2::text IS NULL OR al.device_id = $2)
           AND ${alertVisible('al', '$3')}
         ORDER BY al.opened_at DESC, al.id DESC LIMIT $4`,
        [status ?? null, deviceId ?? null, ctx.principal.sites, firstArg(first)],
      ),
    alert: async (_p, { id }, ctx) => {
      if (!/^\d{1,18}$/.test(id)) throw userError(`alert id '${id}' is not a number`);
      const [row] = await rows<AlertRow>(
        ctx,
        `SELECT ${alertColumns('al')} FROM hub.alert al WHERE al.id = $1 AND ${alertVisible('al', '$2')}`,
        [id, ctx.principal.sites],
      );
      return row ?? null;
    },
    dataQualityEvents: (_p, { from, to, deviceId, first }, ctx) => {
      timeRange(from, to);
      return rows<DqEventRow>(
        ctx,
        `SELECT ${dqColumns('e')} FROM dw.fact_dq_event e
         WHERE e.opened_at >= $1 AND e.opened_at < $2
           AND ($3::text IS NULL OR e.device_sk IN (SELECT d.device_sk FROM dw.dim_device d WHERE d.device_nk = $3))
           AND ${factVisible('e', '$4')}
         ORDER BY e.opened_at DESC, e.dq_event_id DESC LIMIT $5`,
        [from, to, deviceId ?? null, ctx.principal.sites, firstArg(first)],
      );
    },
    maintenanceEvents: (_p, { from, to, deviceId, first }, ctx) => {
      timeRange(from, to);
      return rows<MaintenanceRow>(
        ctx,
        `SELECT ${maintenanceColumns('m')} FROM dw.fact_maintenance_event m
         WHERE m.started_at >= $1 AND m.started_at < $2
           AND ($3::text IS NULL OR m.device_sk IN (SELECT d.device_sk FROM dw.dim_device d WHERE d.device_nk = $3))
           AND ${factVisible('m', '$4')}
         ORDER BY m.started_at DESC, m.maintenance_event_id DESC LIMIT $5`,
        [from, to, deviceId ?? null, ctx.principal.sites, firstArg(first)],
      );
    },
    lineage: (_p, { field }, ctx) => fieldLineage(ctx.db, mappings(), field),
  };
}
