import type { Logger } from '../../observability/index.ts';
import { userError } from '../args.ts';
import type { HubContext } from '../context.ts';
import type { SubscriptionResolvers } from '../generated/types.ts';
import { liveAlerts, liveReadings } from '../live.ts';
import type { AlertRow, LiveReadingsRow } from '../rows.ts';
import { checkMetric } from './root.ts';

const maxDevices = 100;
const hzRange = { min: 0.1, max: 50 };

export function subscriptionResolvers(logger: Logger): SubscriptionResolvers<HubContext> {
  return {
    readings: {
      subscribe: async (_p, { deviceIds, metric, maxHz }, ctx) => {
        const hz = maxHz ?? 1;
        if (!(hz >= hzRange.min && hz <= hzRange.max))
          throw userError(`maxHz must be between ${hzRange.min} and ${hzRange.max}, got ${hz}`);
        if (deviceIds.length === 0 || deviceIds.length > maxDevices)
          throw userError(`deviceIds: give 1 to ${maxDevices} device ids, got ${deviceIds.length}`);
        const code = await checkMetric(ctx, metric);
        return {
          [Symbol.asyncIterator]: () =>
            liveReadings({
              db: ctx.db,
              principal: ctx.principal,
              logger,
              deviceIds,
              metric: code,
              maxHz: hz,
            }),
        };
      },
      resolve: (payload: LiveReadingsRow) => payload,
    },
    alerts: {
      subscribe: (_p, { deviceIds }, ctx) => ({
        [Symbol.asyncIterator]: () =>
          liveAlerts({ db: ctx.db, principal: ctx.principal, logger, deviceIds: deviceIds ?? null }),
      }),
      resolve: (payload: AlertRow) => payload,
    },
  };
}
