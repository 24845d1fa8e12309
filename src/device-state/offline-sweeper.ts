import type pg from 'pg';
import { createPool, inTransaction } from '../db/index.ts';
import type { Logger } from '../observability/index.ts';
import { clearOutbox, insertOutboxEvents } from './outbox.ts';

/** When an online device counts as offline: silent for `intervals` × its reporting cadence, at least `floorS`. */
export interface OfflineRule {
  /** Multiples of dw.dim_device.expected_interval_s (k). */
  intervals: number;
  /** Seconds; the silence allowed at least, and the whole of it for a device of unknown cadence. */
  floorS: number;
}

export interface OfflineSweeperOptions extends OfflineRule {
  databaseUrl: string;
  /** How often the sweep runs, ms. */
  everyMs: number;
  /** Devices marked offline per statement; a sweep repeats until fewer are due. */
  batchSize?: number;
  logger: Logger;
}

// One statement: the due devices locked with SKIP LOCKED (another hub process, or an ingest batch recording
// the device right now, keeps it), marked offline, and announced.
const sweepSql = `
WITH due AS (
  SELECT s.device_id, s.event_seq
    FROM hub.device_state s
    LEFT JOIN dw.dim_device d ON d.device_nk = s.device_id AND d.is_current
   WHERE s.status = 'online'
     AND s.last_received_at < now() - make_interval(secs => GREATEST($1 * coalesce(d.expected_interval_s, 0), $2))
   ORDER BY s.device_id
   LIMIT $3
     FOR UPDATE OF s SKIP LOCKED
), upd AS (
  UPDATE hub.device_state s
     SET status = 'offline', status_changed_at = now(), event_seq = due.event_seq + 1, updated_at = now()
    FROM due
   WHERE s.device_id = due.device_id
  RETURNING s.device_id, s.event_seq AS seq, s.last_received_at
), events AS (
  SELECT device_id, 'offline' AS type, seq, 'online' AS previous, 'offline' AS value, now() AS at,
         jsonb_build_object('last_received_at', last_received_at) AS extra
    FROM upd
), ${insertOutboxEvents}
SELECT coalesce((SELECT array_agg(id::text) FROM outbox), '{}') AS outbox_ids`;

/**
 * Marks offline, in one transaction per `batchSize` devices, every online device silent for longer than the
 * rule allows, each with an `offline` event in hub.outbox. Safe with several hub processes. Returns how many.
 */
export async function sweepOfflineDevices(
  pool: pg.Pool,
  rule: OfflineRule,
  batchSize = 1000,
): Promise<number> {
  let total = 0;
  for (;;) {
    const marked = await inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ outbox_ids: string[] }>(sweepSql, [
        rule.intervals,
        rule.floorS,
        batchSize,
      ]);
      const ids = rows[0]?.outbox_ids ?? [];
      await clearOutbox(client, ids);
      return ids.length;
    });
    total += marked;
    if (marked < batchSize) return total;
  }
}

export interface OfflineSweeper {
  /** Runs one sweep now (also what the timer does); resolves with the devices marked offline. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Sweeps every `everyMs` on a connection of its own: silence is the absence of data, so no ingest batch would
 * ever notice it. A sweep that fails (database down) is logged and retried at the next tick; sweeps never overlap.
 */
export function startOfflineSweeper(options: OfflineSweeperOptions): OfflineSweeper {
  const log = options.logger.child({ component: 'device-state' });
  const pool = createPool(options.databaseUrl, {
    max: 1,
    logger: options.logger,
    name: 'iot-hub-device-state',
  });
  let running: Promise<number> | null = null;
  const sweep = (): Promise<number> => {
    running ??= sweepOfflineDevices(pool, options, options.batchSize)
      .then((n) => {
        if (n > 0) log.info({ devices: n }, `${n} device(s) went offline`);
        return n;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => log.warn({ err }, 'offline sweep failed; will retry'));
  }, options.everyMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
      await pool.end();
    },
  };
}
