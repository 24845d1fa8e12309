import type { HubConfig } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import { type LineageOptions, lineage } from './lineage.ts';
import { lineageSites } from './lineage-graph.ts';

/**
 * Turns the process's lineage on when `openlineage.url` (OPENLINEAGE_URL) is set; returns whether it did.
 * Called by the hub at start (src/hub.ts); `overrides` serve tests (short windows and back-offs).
 */
export async function startLineage(
  config: HubConfig,
  logger: Logger,
  overrides: Partial<LineageOptions> = {},
): Promise<boolean> {
  const { url, apiKey, namespace, windowSeconds } = config.openlineage;
  if (!url) return false;
  await lineage.configure({
    url,
    apiKey,
    logger: logger.child({ component: 'openlineage' }),
    windowMs: windowSeconds * 1000,
    sites: lineageSites({
      jobNamespace: namespace,
      kafkaBroker: config.kafka.brokers[0] ?? '127.0.0.1:9092',
      databaseUrl: config.database.url,
      servicenowUrl: config.servicenow.url,
    }),
    ...overrides,
  });
  logger.info({ endpoint: url, namespace }, 'OpenLineage run events on');
  return true;
}
