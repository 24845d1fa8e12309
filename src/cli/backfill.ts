import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { ReferenceCache } from '../enrich/index.ts';
import {
  backfillDeadLetters,
  createIngestPool,
  loadFactRouter,
  readTelemetryConnector,
} from '../ingest/index.ts';
import { createLogger } from '../observability/index.ts';
import { parseIds, parseLimit, printReplay } from './dlq.ts';

/**
 * `iot-hub backfill [ids...]`: loads readings older than their mapping's late_data.max_lateness, which the
 * ingest dead-lettered as TOO_LATE. It replays those letters with the limit lifted (future_skew still applies),
 * creating the month partitions they need, then recomputes the hourly rollups they touch.
 */
export function registerBackfillCommand(program: Command): void {
  program
    .command('backfill')
    .description(
      'load TOO_LATE dead letters (older than late_data.max_lateness) and recompute their hourly rollups',
    )
    .argument('[ids...]', 'dead letter ids (default: every pending TOO_LATE letter matching the filters)')
    .option('--topic <topic>', 'only this source topic')
    .option('--code <code>', 'take pending letters with this error code instead of TOO_LATE')
    .option('--limit <n>', 'at most this many letters', '10000')
    .option(
      '--connector <file>',
      'the telemetry connector whose mappings to use',
      'connectors/telemetry.yaml',
    )
    .action(async (ids: string[], o: { topic?: string; code?: string; limit: string; connector: string }) => {
      const config = loadConfig({ file: program.opts().config });
      const router = loadFactRouter(readTelemetryConnector(o.connector));
      const pool = createIngestPool(config.database.url, 2, createLogger(config.log.level));
      try {
        const result = await backfillDeadLetters(
          pool,
          { router, cache: new ReferenceCache(pool) },
          { ids: parseIds(ids), topic: o.topic, code: o.code, limit: parseLimit(o.limit) },
        );
        printReplay(result, result.hoursRecomputed, console.log);
        if (result.stillFailing.length > 0) process.exitCode = 2;
      } finally {
        await pool.end();
      }
    });
}
