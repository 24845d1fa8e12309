import type pg from 'pg';
import { recordDeviceState } from '../device-state/index.ts';
import type { ReferenceCache } from '../enrich/index.ts';
import type { HubMessage } from '../kafka/index.ts';
import type { MappingRouter } from '../mapping/index.ts';
import { withSpan } from '../observability/index.ts';
import { StreamQualityStage } from '../quality/index.ts';
import type { DeadLetter } from './dead-letters.ts';
import { type BatchCounts, BatchLedger } from './stages/batch-ledger.ts';
import { enrichReadings, type LoadedValue } from './stages/enrich.ts';
import { lateTolerantRouter } from './stages/late-data.ts';
import { loadBatch } from './stages/load.ts';
import { mapRecords } from './stages/map.ts';
import { defaultPayloadLimits, type PayloadLimits, validateRecords } from './stages/validate.ts';

export type { LoadedValue };

export interface IngestContext {
  router: MappingRouter;
  cache: ReferenceCache;
  /** Groups the lineage rows of one consumer run, replay or backfill. */
  runId: string;
  now?: () => number;
  limits?: PayloadLimits;
  /** Return the loaded values by natural keys (BatchOutcome.values), for a downstream listener. */
  collectValues?: boolean;
  /** Replaying one reading's dead letter: keep only that reading (exploded element) of the message. */
  onlyReading?: number | null;
  /**
   * A backfill: readings older than their mapping's late_data.max_lateness load instead of becoming TOO_LATE
   * (future_skew still applies). The loader creates the months they need; the rollup picks up their hours.
   */
  allowLate?: boolean;
  /** The data-quality stage (docs/data-quality.md); default: one per ReferenceCache, i.e. per ingest. */
  quality?: StreamQualityStage | false;
}

// One data-quality stage per ingest (its ReferenceCache), so its cache of series states is per ingest.
const qualityStages = new WeakMap<ReferenceCache, StreamQualityStage>();
function qualityStageOf(ctx: IngestContext): StreamQualityStage | null {
  if (ctx.quality !== undefined) return ctx.quality || null;
  // An operator's switch (and the ingest bench's baseline): IOT_HUB_QUALITY_STAGE=off loads without it.
  if (process.env.IOT_HUB_QUALITY_STAGE === 'off') return null;
  let stage = qualityStages.get(ctx.cache);
  if (!stage) {
    stage = new StreamQualityStage();
    qualityStages.set(ctx.cache, stage);
  }
  return stage;
}

export interface BatchOutcome {
  batchId: number;
  /** The counts that reconcile: messages = loaded + dead-lettered; readings = inserted + duplicates + dropped. */
  counts: BatchCounts;
  inserted: number;
  duplicates: number;
  /** Of the duplicates, readings that replaced the stored one (target.on_conflict: update). */
  updated: number;
  inferredDevices: number;
  /** Newest reading time (epoch ms) loaded, for end-to-end latency. */
  newestReadingMs: number | null;
  /** The dead letters written: whole messages first, then single readings. */
  letters: DeadLetter[];
  /** The readings of this batch with a value, by natural keys, for downstream checks (alert rules). */
  values: LoadedValue[];
}

/**
 * validate → map → enrich → load for the records of one topic partition (or a dead letter being replayed), in
 * the caller's open transaction. Every message ends loaded or as one dead letter, and every reading of a
 * loaded message is inserted, a duplicate, or a dead letter of its own.
 */
export async function processRecords(
  client: pg.PoolClient,
  records: HubMessage[],
  ctx: IngestContext,
): Promise<BatchOutcome> {
  const ledger = new BatchLedger(records.length);
  const router = ctx.allowLate ? lateTolerantRouter(ctx.router) : ctx.router;
  const groups = await withSpan('ingest.validate', { records: records.length }, () =>
    validateRecords(records, router, ctx.limits ?? defaultPayloadLimits, ledger),
  );
  const mapped = await withSpan('ingest.map', {}, () => mapRecords(groups, ledger, ctx.onlyReading));
  const snapshot = await ctx.cache.current();
  const enriched = await withSpan('ingest.enrich', { readings: mapped.length }, () =>
    enrichReadings(
      mapped,
      {
        client,
        cache: ctx.cache,
        snapshot,
        now: ctx.now?.() ?? Date.now(),
        collectValues: Boolean(ctx.collectValues),
      },
      ledger,
    ),
  );
  const quality = qualityStageOf(ctx);
  if (quality)
    await withSpan('ingest.quality', { facts: enriched.facts.length }, () =>
      quality.assess(client, enriched.facts, snapshot.version),
    );
  const load = await withSpan('ingest.load', { facts: enriched.facts.length }, () =>
    loadBatch(
      client,
      {
        runId: ctx.runId,
        records,
        mappings: groups.map((g) => g.mapping),
        facts: enriched.facts,
        details: {
          during_maintenance: enriched.duringMaintenance,
          inferred_devices: enriched.inferredDevices.length,
          reference_version: snapshot.version,
        },
      },
      ledger,
    ),
  );
  // Device status and health, announced through hub.outbox in this transaction (src/device-state). A backfill
  // loads old readings, which say nothing about whether a device is online now.
  if (!ctx.allowLate)
    await withSpan('ingest.device_state', {}, () =>
      recordDeviceState(client, enriched.facts, enriched.snapshot),
    );
  return {
    batchId: load.batchId,
    counts: load.counts,
    inserted: load.inserted,
    duplicates: load.duplicates,
    updated: load.updated,
    inferredDevices: enriched.inferredDevices.length,
    newestReadingMs: enriched.newestReadingMs,
    letters: ledger.letters(),
    values: enriched.values,
  };
}
