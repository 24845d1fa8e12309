import type { Queryable } from '../db/index.ts';

/** The events hub.outbox carries for a device (aggregatetype `device`, routed to the topic device.state). */
export type DeviceEventType = 'online' | 'offline' | 'health_changed' | 'firmware_changed';

/**
 * The JSON value of a device.state message (the outbox row's payload, expanded by the Event Router). `seq`
 * counts the device's events from 1 without gaps, so a consumer can check it got them all and in order.
 */
export interface DeviceEvent {
  device_id: string;
  type: DeviceEventType;
  seq: number;
  /**
   * The value before the change; null when the device was first seen. Debezium's Event Router leaves JSON nulls
   * out when it expands the payload, so on device.state a null arrives as an absent field.
   */
  previous?: string | null;
  value: string | null;
  /** When the hub saw the change (ISO 8601). */
  at: string;
  /** health_changed: the battery reading behind it. */
  battery_pct?: number | null;
  /** offline: when the hub last received anything from the device. */
  last_received_at?: string;
}

/**
 * SQL that inserts the rows of CTE `events` (device_id, type, seq, previous, value, at, extra jsonb) into
 * hub.outbox in device and sequence order, as the CTE `outbox`; the statement selects `outbox_ids` from it.
 */
export const insertOutboxEvents = `outbox AS (
    INSERT INTO hub.outbox (aggregatetype, aggregateid, type, payload)
    SELECT 'device', e.device_id, e.type,
           jsonb_build_object('device_id', e.device_id, 'type', e.type, 'seq', e.seq, 'previous', e.previous,
                              'value', e.value, 'at', e.at) || e.extra
      FROM events e
     ORDER BY e.device_id, e.seq
    RETURNING id)`;

/**
 * Deletes the outbox rows a statement just inserted. Debezium reads the INSERT from the WAL, so the row has no
 * use once committed; deleting it in the same transaction keeps hub.outbox empty (docs/architecture.md,
 * "Device state and the outbox").
 */
export async function clearOutbox(client: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await client.query('DELETE FROM hub.outbox WHERE id = ANY($1::uuid[])', [ids]);
}
