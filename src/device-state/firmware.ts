import type { Queryable } from '../db/index.ts';
import { clearOutbox, insertOutboxEvents } from './outbox.ts';

// The devices' current firmware as MDM reports it (dw.dim_device), against the one last announced
// (hub.device_state), locked in key order; each device whose firmware differs is updated and announced.
const firmwareSql = `
WITH cur AS (
  SELECT device_nk AS device_id, firmware_version FROM dw.dim_device WHERE device_nk = ANY($1) AND is_current
), old AS (
  SELECT s.device_id, s.firmware_version, s.event_seq
    FROM hub.device_state s JOIN cur USING (device_id)
   WHERE s.firmware_version IS DISTINCT FROM cur.firmware_version
   ORDER BY s.device_id
     FOR UPDATE OF s
), upd AS (
  UPDATE hub.device_state s
     SET firmware_version = c.firmware_version, event_seq = o.event_seq + 1, updated_at = now()
    FROM old o JOIN cur c USING (device_id)
   WHERE s.device_id = o.device_id
  RETURNING s.device_id, o.firmware_version AS previous, s.firmware_version AS value, s.event_seq AS seq
), events AS (
  SELECT device_id, 'firmware_changed' AS type, seq, previous, value, now() AS at, '{}'::jsonb AS extra FROM upd
), ${insertOutboxEvents}
SELECT coalesce((SELECT array_agg(id::text) FROM outbox), '{}') AS outbox_ids`;

/**
 * After a CDC merge of dw.dim_device, in its transaction: the given devices whose current firmware differs from
 * the one hub.device_state holds get it, and a `firmware_changed` event in hub.outbox. A device that never sent
 * telemetry has no state yet and announces nothing; it takes its firmware from dw.dim_device when first seen.
 * Returns the number of events written.
 */
export async function recordFirmwareChanges(
  client: Queryable,
  deviceIds: readonly string[],
): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const { rows } = await client.query<{ outbox_ids: string[] }>(firmwareSql, [[...deviceIds]]);
  const ids = rows[0]?.outbox_ids ?? [];
  await clearOutbox(client, ids);
  return ids.length;
}
