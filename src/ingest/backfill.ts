import type pg from 'pg';
import { recomputeDirtyHours } from '../warehouse/index.ts';
import { type DeadLetterFilter, type ReplayContext, type ReplayResult, replayDeadLetters } from './dlq.ts';

export interface BackfillResult extends ReplayResult {
  /** Rollup hours recomputed into dw.fact_sensor_hourly at the end. */
  hoursRecomputed: number;
}

/**
 * Loads dead letters older than their mapping's late_data.max_lateness: a replay with the limit lifted
 * (IngestContext.allowLate). Without ids, it takes the pending TOO_LATE letters (or `filter.code`). The loader
 * creates the month partitions the readings need; at the end the queued rollup hours are recomputed, so the
 * hourly facts include the backfilled readings even when no hub is running.
 */
export async function backfillDeadLetters(
  pool: pg.Pool,
  ctx: Omit<ReplayContext, 'allowLate'>,
  filter: DeadLetterFilter = {},
): Promise<BackfillResult> {
  const replay = await replayDeadLetters(
    pool,
    { ...ctx, allowLate: true },
    filter.ids ? filter : { ...filter, code: filter.code ?? 'TOO_LATE' },
  );
  return { ...replay, hoursRecomputed: await flushRollupQueue(pool) };
}

/** Recomputes every queued rollup hour now, in chunks, until the queue is empty. */
export async function flushRollupQueue(pool: pg.Pool, chunk = 50_000): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await recomputeDirtyHours(pool, { settleMs: 0, limit: chunk });
    total += n;
    if (n < chunk) return total;
  }
}
