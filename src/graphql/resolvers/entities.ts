import { GraphQLError } from 'graphql';
import { firstArg, timeRange } from '../args.ts';
import type { HubContext } from '../context.ts';
import type { Resolvers } from '../generated/types.ts';
import { readingCursor } from '../loaders.ts';
import { checkMetric } from './root.ts';

/** A hop that must find its row (the fact's keys are NOT NULL, the unknown member included). */
function found<T>(row: T | null, what: string): T {
  if (row === null) throw new GraphQLError(`${what} not found or not visible to you`);
  return row;
}

/** found() of a RowLoader's get(): a cached row stays synchronous, so graphql-js needs no promise for it. */
function foundRow<T>(got: T | null | Promise<T | null>, what: string): T | Promise<T> {
  return got instanceof Promise ? got.then((row) => found(row, what)) : found(got, what);
}

/**
 * Apollo Federation's entity resolvers (docs/graphql.md, "Federation"): a supergraph sends `{ __typename, id }`
 * and gets the entity through the same DataLoaders (and so the same row filter) as any other hop; an id that
 * does not exist or is not visible resolves to null. Kept apart from the generated `Resolvers` type, which has
 * no `__resolveReference`.
 */
export const entityReferenceResolvers = {
  Site: {
    __resolveReference: async (ref: { id: string }, ctx: HubContext) => {
      const asset = await ctx.loaders.asset.load(ref.id);
      return asset?.level === 'site' ? asset : null;
    },
  },
  Asset: {
    __resolveReference: (ref: { id: string }, ctx: HubContext) => ctx.loaders.asset.load(ref.id),
  },
  Device: {
    __resolveReference: (ref: { id: string }, ctx: HubContext) => ctx.loaders.device.load(ref.id),
  },
};

/** The type resolvers: every hop goes through a DataLoader of ctx.loaders. */
export const entityResolvers: Resolvers<HubContext> = {
  Site: {
    asset: (site, _a, ctx) => foundRow(ctx.loaders.asset.get(site.id), `asset ${site.id}`),
    devices: (site, { first }, ctx) => ctx.loaders.devicesUnder.load({ id: site.id, first: firstArg(first) }),
  },
  Asset: {
    site: (asset, _a, ctx) => (asset.siteId ? ctx.loaders.asset.get(asset.siteId) : null),
    parent: (asset, _a, ctx) => (asset.parentId ? ctx.loaders.asset.get(asset.parentId) : null),
    children: (asset, _a, ctx) => ctx.loaders.children.load(asset.id),
    ancestors: (asset, _a, ctx) => ctx.loaders.ancestors.load(asset.id),
    descendants: (asset, _a, ctx) => ctx.loaders.descendants.load(asset.id),
    devices: (asset, _a, ctx) => ctx.loaders.devicesOnAsset.load(asset.id),
    maintenanceEvents: (asset, { first }, ctx) =>
      ctx.loaders.maintenanceOfAsset.load({ id: asset.id, first: firstArg(first) }),
  },
  Device: {
    asset: (device, _a, ctx) => (device.assetId ? ctx.loaders.asset.get(device.assetId) : null),
    asOf: (device, { at }, ctx) => ctx.loaders.deviceAsOf.load({ id: device.id, at }),
    history: (device, _a, ctx) => ctx.loaders.deviceHistory.load(device.id),
    configurationItem: (device, _a, ctx) => ctx.loaders.configurationItem.load(device.id),
    readings: async (device, { from, to, metric, first, after }, ctx) => {
      timeRange(from, to);
      return ctx.loaders.readings.load({
        deviceId: device.id,
        from,
        to,
        metric: await checkMetric(ctx, metric),
        first: firstArg(first),
        after: after ?? null,
      });
    },
    hourly: async (device, { from, to, metric }, ctx) => {
      timeRange(from, to);
      return ctx.loaders.hourly.load({
        deviceId: device.id,
        from,
        to,
        metric: await checkMetric(ctx, metric),
      });
    },
    alerts: (device, { first }, ctx) =>
      ctx.loaders.alertsOfDevice.load({ id: device.id, first: firstArg(first) }),
    incidents: async (device, { first }, ctx) => {
      const alerts = await ctx.loaders.alertsOfDevice.load({ id: device.id, first: firstArg(first) });
      const ticketed = alerts.filter((a) => a.ticketSysId !== null);
      try {
        const incidents = await Promise.all(ticketed.map((a) => ctx.loaders.incident.load(a.ticketSysId!)));
        return incidents.filter((i) => i !== null);
      } catch (err) {
        throw new GraphQLError(`ServiceNow incidents of device ${device.id}: ${(err as Error).message}`, {
          extensions: { code: 'SERVICENOW_UNAVAILABLE' },
        });
      }
    },
    dataQualityEvents: (device, { first }, ctx) =>
      ctx.loaders.dqEventsOfDevice.load({ id: device.id, first: firstArg(first) }),
    maintenanceEvents: (device, { first }, ctx) =>
      ctx.loaders.maintenanceOfDevice.load({ id: device.id, first: firstArg(first) }),
  },
  ReadingEdge: {
    cursor: (edge) => edge.cursor ?? readingCursor(edge.node),
  },
  Reading: {
    device: (r, _a, ctx) => foundRow(ctx.loaders.deviceBySk.get(r.deviceSk), `device ${r.deviceSk}`),
    metric: (r, _a, ctx) => foundRow(ctx.loaders.metricBySk.get(r.metricSk), `metric ${r.metricSk}`),
  },
  HourlyRollup: {
    device: (h, _a, ctx) => foundRow(ctx.loaders.deviceBySk.get(h.deviceSk), `device ${h.deviceSk}`),
    metric: (h, _a, ctx) => foundRow(ctx.loaders.metricBySk.get(h.metricSk), `metric ${h.metricSk}`),
  },
  DataQualityEvent: {
    device: (e, _a, ctx) => foundRow(ctx.loaders.deviceBySk.get(e.deviceSk), `device ${e.deviceSk}`),
    metric: (e, _a, ctx) => (e.metricSk === null ? null : ctx.loaders.metricBySk.get(e.metricSk)),
  },
  MaintenanceEvent: {
    device: (m, _a, ctx) => foundRow(ctx.loaders.deviceBySk.get(m.deviceSk), `device ${m.deviceSk}`),
    asset: (m, _a, ctx) => foundRow(ctx.loaders.assetBySk.get(m.assetSk), `asset ${m.assetSk}`),
  },
  Alert: {
    device: (a, _a, ctx) => (a.deviceId ? ctx.loaders.device.get(a.deviceId) : null),
    metric: (a, _a, ctx) => (a.metricCode ? ctx.loaders.metricByCode.get(a.metricCode) : null),
    // Null with an error entry when ServiceNow does not answer: the rest of the answer still comes.
    incident: async (a, _a, ctx) => {
      if (!a.ticketSysId) return null;
      try {
        return await ctx.loaders.incident.load(a.ticketSysId);
      } catch (err) {
        throw new GraphQLError(
          `ServiceNow incident ${a.ticketNumber ?? a.ticketSysId}: ${(err as Error).message}`,
          {
            extensions: { code: 'SERVICENOW_UNAVAILABLE' },
          },
        );
      }
    },
  },
};
