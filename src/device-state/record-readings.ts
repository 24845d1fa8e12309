import type { Queryable } from '../db/index.ts';
import type { ReferenceSnapshot } from '../enrich/index.ts';
import type { FactReading } from '../warehouse/index.ts';
import { clearOutbox, insertOutboxEvents } from './outbox.ts';

/** Battery levels (percent) below which a device's health is degraded or failed. */
export interface BatteryHealth {
  degradedBelowPct: number;
  failedBelowPct: number;
}

export const defaultBatteryHealth: BatteryHealth = { degradedBelowPct: 20, failedBelowPct: 5 };

export interface DeviceStateOptions {
  health?: BatteryHealth;
  /**
   * How stale last_received_at (and with it last_seen_at and battery_pct) may get before a batch rewrites a device
   * that is online and whose health does not change; default 1 s. Keep it well below the offline floor.
   */
  refreshSeconds?: number;
}

/** What one batch says about its devices, by surrogate key, as parallel arrays for one statement. */
export interface ReadingSummary {
  deviceSks: number[];
  /** Newest reading time per device, epoch ms. */
  seenMs: number[];
  /** Newest battery reading per device and its time, or null. */
  batteryPct: (number | null)[];
  batteryMs: (number | null)[];
}

/**
 * Folds a batch's facts into one entry per device version: newest reading time and newest battery reading.
 * Readings of the unknown member (negative key) name no device and are left out.
 */
export function summarizeReadings(
  facts: readonly FactReading[],
  batteryMetricSk: number | null,
): ReadingSummary {
  const byDevice = new Map<number, { seen: number; battery: number | null; batteryAt: number | null }>();
  for (const f of facts) {
    if (f.deviceSk < 0) continue;
    let entry = byDevice.get(f.deviceSk);
    if (!entry) {
      entry = { seen: f.tsMs, battery: null, batteryAt: null };
      byDevice.set(f.deviceSk, entry);
    } else if (f.tsMs > entry.seen) entry.seen = f.tsMs;
    if (
      f.metricSk === batteryMetricSk &&
      f.value !== null &&
      (entry.batteryAt === null || f.tsMs > entry.batteryAt)
    ) {
      entry.battery = f.value;
      entry.batteryAt = f.tsMs;
    }
  }
  const summary: ReadingSummary = { deviceSks: [], seenMs: [], batteryPct: [], batteryMs: [] };
  for (const [sk, e] of byDevice) {
    summary.deviceSks.push(sk);
    summary.seenMs.push(e.seen);
    summary.batteryPct.push(e.battery);
    summary.batteryMs.push(e.batteryAt);
  }
  return summary;
}

export interface DeviceStateOutcome {
  devices: number;
  /** Outbox events written (online, health_changed). */
  events: number;
}

// The health a battery level means ($5: degraded below, $6: failed below); no reading is ok.
const healthOf = (pct: string) =>
  `CASE WHEN ${pct} IS NULL OR ${pct} >= $5 THEN 'ok' WHEN ${pct} >= $6 THEN 'degraded' ELSE 'failed' END`;

// One statement: the batch per device (its SCD2 versions folded by natural key); the devices whose state this
// batch changes (not online, health changing, or last received longer ago than the refresh resolution $7) locked
// in key order, so concurrent batches wait for each other instead of deadlocking; those updated, new devices
// inserted, one outbox row per change. A device online, with unchanged health and received within the resolution
// is left alone: rewriting ~1000 rows per batch, 25 times a second, would cost more than the load itself.
// Selecting the locked rows first is how PostgreSQL 15 returns the values before an UPDATE. A device another
// transaction inserts meanwhile is neither updated nor inserted here; the caller runs the statement again, which
// is idempotent.
const recordSql = `
WITH input AS (
  SELECT d.device_nk AS device_id, i.seen_ms, i.battery, i.battery_ms
    FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::float8[]) AS i(device_sk, seen_ms, battery, battery_ms)
    JOIN dw.dim_device d ON d.device_sk = i.device_sk
), batch AS (
  SELECT device_id, to_timestamp(max(seen_ms) / 1000) AS seen_at,
         (array_agg(battery ORDER BY battery_ms DESC) FILTER (WHERE battery IS NOT NULL))[1] AS battery_pct,
         to_timestamp(max(battery_ms) / 1000) AS battery_at
    FROM input GROUP BY device_id
), known AS (
  SELECT s.device_id,
         s.status <> 'online' OR s.last_received_at <= now() - make_interval(secs => $7)
         OR coalesce(b.battery_at >= coalesce(s.battery_at, '-infinity')
                     AND ${healthOf('b.battery_pct')} IS DISTINCT FROM s.health, false) AS changes
    FROM hub.device_state s JOIN batch b USING (device_id)
), old AS (
  SELECT s.device_id, s.status, s.health, s.event_seq, s.battery_pct, s.battery_at
    FROM hub.device_state s JOIN known k USING (device_id)
   WHERE k.changes
   ORDER BY s.device_id
     FOR UPDATE OF s
), next AS (
  SELECT b.device_id, b.seen_at, o.status AS old_status, o.health AS old_health, o.event_seq AS old_seq,
         n.battery_pct, n.battery_at, ${healthOf('n.battery_pct')} AS health
    FROM batch b JOIN old o USING (device_id)
   CROSS JOIN LATERAL (
     SELECT CASE WHEN b.battery_at >= coalesce(o.battery_at, '-infinity') THEN b.battery_pct ELSE o.battery_pct END,
            GREATEST(b.battery_at, o.battery_at)
   ) AS n(battery_pct, battery_at)
), upd AS (
  UPDATE hub.device_state s
     SET status = 'online',
         status_changed_at = CASE WHEN n.old_status = 'online' THEN s.status_changed_at ELSE now() END,
         last_seen_at = GREATEST(s.last_seen_at, n.seen_at),
         last_received_at = GREATEST(s.last_received_at, now()),
         battery_pct = n.battery_pct,
         battery_at = n.battery_at,
         health = n.health,
         event_seq = n.old_seq + (n.old_status <> 'online')::int
                     + (coalesce(n.old_health, 'ok') <> n.health)::int,
         updated_at = now()
    FROM next n
   WHERE s.device_id = n.device_id
  RETURNING s.device_id, n.old_status, s.status, n.old_health, s.health, n.old_seq, s.battery_pct
), ins AS (
  INSERT INTO hub.device_state AS s (device_id, status, status_changed_at, last_seen_at, last_received_at,
                                     firmware_version, battery_pct, battery_at, health, event_seq)
  SELECT b.device_id, 'online', now(), b.seen_at, now(), cur.firmware_version, b.battery_pct, b.battery_at, h.health,
         1 + (h.health <> 'ok')::int
    FROM batch b
    LEFT JOIN dw.dim_device cur ON cur.device_nk = b.device_id AND cur.is_current
   CROSS JOIN LATERAL (SELECT ${healthOf('b.battery_pct')}) AS h(health)
   WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.device_id = b.device_id)
   ORDER BY b.device_id
  ON CONFLICT (device_id) DO NOTHING
  RETURNING s.device_id, NULL::text AS old_status, s.status, NULL::text AS old_health, s.health,
            0::bigint AS old_seq, s.battery_pct
), changed AS (
  SELECT * FROM upd UNION ALL SELECT * FROM ins
), events AS (
  SELECT device_id, 'online' AS type, old_seq + 1 AS seq, old_status AS previous, status AS value, now() AS at,
         '{}'::jsonb AS extra
    FROM changed WHERE old_status IS DISTINCT FROM 'online'
  UNION ALL
  SELECT device_id, 'health_changed', old_seq + 1 + (old_status IS DISTINCT FROM 'online')::int,
         coalesce(old_health, 'ok'), health, now(), jsonb_build_object('battery_pct', battery_pct)
    FROM changed WHERE coalesce(old_health, 'ok') <> health
), ${insertOutboxEvents}
SELECT (SELECT count(*) FROM batch)::int AS devices,
       ((SELECT count(*) FROM changed) + (SELECT count(*) FROM known WHERE NOT changes))::int AS applied,
       coalesce((SELECT array_agg(id::text) FROM outbox), '{}') AS outbox_ids`;

/**
 * Records what an ingest batch says about its devices in hub.device_state, in the batch's transaction (after the
 * load): newest reading time, received now, latest battery reading, and the health it implies. A device first
 * seen or back from offline announces `online`, a change of health `health_changed`, through hub.outbox in the
 * same transaction, so a rolled-back batch announces nothing.
 */
export async function recordDeviceState(
  client: Queryable,
  facts: readonly FactReading[],
  snapshot: ReferenceSnapshot,
  options: DeviceStateOptions = {},
): Promise<DeviceStateOutcome> {
  const health = options.health ?? defaultBatteryHealth;
  const summary = summarizeReadings(facts, snapshot.metric('battery')?.sk ?? null);
  if (summary.deviceSks.length === 0) return { devices: 0, events: 0 };
  const params = [
    summary.deviceSks,
    summary.seenMs,
    summary.batteryPct,
    summary.batteryMs,
    health.degradedBelowPct,
    health.failedBelowPct,
    options.refreshSeconds ?? 1,
  ];
  let events = 0;
  // A second pass only when another transaction inserted one of the batch's new devices at the same moment.
  for (let attempt = 1; ; attempt++) {
    const { rows } = await client.query<{ devices: number; applied: number; outbox_ids: string[] }>(
      recordSql,
      params,
    );
    const row = rows[0]!;
    await clearOutbox(client, row.outbox_ids);
    events += row.outbox_ids.length;
    if (row.applied >= row.devices) return { devices: row.devices, events };
    if (attempt >= 3)
      throw new Error(
        `device state: ${row.devices - row.applied} of ${row.devices} devices could not be recorded after ${attempt} attempts (concurrent inserts)`,
      );
  }
}
