import type { Knex } from '../db/index.ts';

/** One device whose CI values differ from those IRE last accepted, leased to this process. */
export interface ClaimedDevice {
  deviceId: string;
  /** The CI values to send (Glide strings), built from dw.dim_device and hub.device_state. */
  values: Record<string, string>;
  /** md5 of `values`: stored as payload_hash once IRE accepts them. */
  hash: string;
  /** `hash` plus the devices sharing the serial: a failed attempt is retried at once when this changes. */
  attemptKey: string;
  /** Other current devices with the same serial_number; IRE would make them one CI. */
  sharedSerialWith: string[];
}

export interface CmdbSinkFailure {
  deviceId: string;
  error: string;
  attempts: number;
  nextAttemptAt: Date | null;
}

export interface CmdbSinkStatus {
  devices: number;
  synced: number;
  /** Devices whose CI values differ from those last accepted (never synced ones included). */
  pending: number;
  /** Pending devices whose last attempt failed. */
  failed: number;
  /** Seconds since the stalest pending device was last in sync (or first seen); 0 when none is pending. */
  lagSeconds: number;
  failures: CmdbSinkFailure[];
}

export interface BackoffSettings {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * The CI values of every current MDM device, as jsonb so that its text is canonical and hashes the same way on
 * every process. The mapping is in docs/servicenow-cmdb.md ("CI values"); null values are left out, so a value
 * the hub no longer knows stays as it is in the CMDB. Last seen is rounded down to the resolution (a bind
 * parameter, seconds) so that a device reporting every second is not a CI update every second.
 */
const deviceValuesSql = `
  device AS (
    SELECT d.device_nk AS device_id,
           jsonb_strip_nulls(jsonb_build_object(
             'name', d.device_nk,
             'serial_number', nullif(d.serial_number, ''),
             'model_number', d.model,
             'firmware_version', coalesce(s.firmware_version, d.firmware_version),
             'operational_status', CASE
               WHEN d.lifecycle_status = 'retired' THEN '6'
               WHEN d.lifecycle_status = 'maintenance' THEN '3'
               WHEN s.status = 'offline' OR s.health = 'failed' THEN '2'
               WHEN s.status = 'online' THEN '1'
               WHEN d.lifecycle_status = 'planned' THEN '5' END,
             'install_status', CASE d.lifecycle_status
               WHEN 'active' THEN '1' WHEN 'maintenance' THEN '3' WHEN 'planned' THEN '6' WHEN 'retired' THEN '7' END,
             'u_last_seen', to_char(
               to_timestamp(floor(extract(epoch FROM s.last_seen_at) / :resolution) * :resolution) AT TIME ZONE 'UTC',
               'YYYY-MM-DD HH24:MI:SS'),
             'u_battery_pct', round(s.battery_pct)::integer::text,
             'u_health', s.health)) AS ci_values,
           CASE WHEN nullif(d.serial_number, '') IS NULL THEN ARRAY[]::text[]
                ELSE array_remove(array_agg(d.device_nk) OVER (PARTITION BY nullif(d.serial_number, '')), d.device_nk)
           END AS shared_serial_with
    FROM dw.dim_device d
    LEFT JOIN hub.device_state s ON s.device_id = d.device_nk
    WHERE d.is_current AND NOT d.is_inferred AND d.device_sk > 0)`;

/** hub.cmdb_sink_state (migrations/20261201140000_cmdb_sink.ts): what to send, and what came of it. */
export class CmdbSinkStore {
  readonly #knex: Knex;
  readonly #resolutionSeconds: number;

  constructor(knex: Knex, options: { lastSeenResolutionSeconds: number }) {
    this.#knex = knex;
    this.#resolutionSeconds = options.lastSeenResolutionSeconds;
  }

  /** Gives every current MDM device a state row, so that it can be claimed (locked) like the others. */
  async addNewDevices(): Promise<number> {
    const result = await this.#knex.raw(`
      INSERT INTO hub.cmdb_sink_state (device_id)
      SELECT device_nk FROM dw.dim_device WHERE is_current AND NOT is_inferred AND device_sk > 0
      ON CONFLICT (device_id) DO NOTHING`);
    return result.rowCount ?? 0;
  }

  /**
   * Leases up to `limit` devices whose CI values changed since the last success and are due: never tried, past
   * their back-off, or changed since the attempt that failed (a fix is sent at once). SKIP LOCKED and the lease
   * keep two hub processes from sending the same device; an expired lease (a process died) frees it again.
   */
  async claim(owner: string, limit: number, leaseSeconds: number): Promise<ClaimedDevice[]> {
    const result = await this.#knex.raw(
      `WITH ${deviceValuesSql},
       due AS (
         SELECT c.device_id, p.ci_values, md5(p.ci_values::text) AS hash, p.shared_serial_with,
                md5(p.ci_values::text || p.shared_serial_with::text) AS attempt_key
         FROM hub.cmdb_sink_state c JOIN device p USING (device_id)
         WHERE c.payload_hash IS DISTINCT FROM md5(p.ci_values::text)
           AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= now()
                OR c.attempted_hash IS DISTINCT FROM md5(p.ci_values::text || p.shared_serial_with::text))
           AND (c.lease_until IS NULL OR c.lease_until < now())
         ORDER BY c.next_attempt_at NULLS FIRST, c.device_id
         LIMIT :limit
         FOR UPDATE OF c SKIP LOCKED)
       UPDATE hub.cmdb_sink_state c
          SET lease_owner = :owner, lease_until = now() + make_interval(secs => :leaseSeconds)
         FROM due WHERE c.device_id = due.device_id
       RETURNING c.device_id, due.ci_values, due.hash, due.shared_serial_with, due.attempt_key`,
      { resolution: this.#resolutionSeconds, limit, owner, leaseSeconds },
    );
    return (
      result.rows as Array<{
        device_id: string;
        ci_values: Record<string, string>;
        hash: string;
        shared_serial_with: string[];
        attempt_key: string;
      }>
    )
      .map((r) => ({
        deviceId: r.device_id,
        values: r.ci_values,
        hash: r.hash,
        sharedSerialWith: r.shared_serial_with,
        attemptKey: r.attempt_key,
      }))
      .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }

  /** IRE accepted these values: remember their hash and the CI, clear errors and the lease. */
  async succeeded(
    owner: string,
    done: ReadonlyArray<{ device: ClaimedDevice; sysId: string }>,
  ): Promise<void> {
    if (done.length === 0) return;
    await this.#knex.raw(
      `UPDATE hub.cmdb_sink_state c
          SET payload_hash = r.hash, ci_sys_id = r.sys_id, synced_at = now(), attempts = 0, last_error = NULL,
              attempted_hash = NULL, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
         FROM unnest(?::text[], ?::text[], ?::text[]) AS r(device_id, hash, sys_id)
        WHERE c.device_id = r.device_id AND c.lease_owner = ?`,
      [done.map((d) => d.device.deviceId), done.map((d) => d.device.hash), done.map((d) => d.sysId), owner],
    );
  }

  /** Records each device's error and its next attempt: base × 2^attempts, capped; releases the lease. */
  async failed(
    owner: string,
    failures: ReadonlyArray<{ device: ClaimedDevice; error: string }>,
    backoff: BackoffSettings,
  ): Promise<void> {
    if (failures.length === 0) return;
    await this.#knex.raw(
      `UPDATE hub.cmdb_sink_state c
          SET attempts = c.attempts + 1, last_error = r.error, attempted_hash = r.hash,
              next_attempt_at = now() + make_interval(secs => least(?::double precision,
                                  ?::double precision * power(2, least(c.attempts, 30)))),
              lease_owner = NULL, lease_until = NULL
         FROM unnest(?::text[], ?::text[], ?::text[]) AS r(device_id, hash, error)
        WHERE c.device_id = r.device_id AND c.lease_owner = ?`,
      [
        backoff.maxSeconds,
        backoff.baseSeconds,
        failures.map((f) => f.device.deviceId),
        failures.map((f) => f.device.attemptKey),
        failures.map((f) => f.error),
        owner,
      ],
    );
  }

  /** Gives devices back untouched (a pass that stopped early): the next pass takes them. */
  async release(owner: string, devices: readonly ClaimedDevice[]): Promise<void> {
    if (devices.length === 0) return;
    await this.#knex.raw(
      `UPDATE hub.cmdb_sink_state SET lease_owner = NULL, lease_until = NULL
        WHERE device_id = ANY(?::text[]) AND lease_owner = ?`,
      [devices.map((d) => d.deviceId), owner],
    );
  }

  /** Counts and the failed devices (error text and next attempt), for metrics and `iot-hub cmdb status`. */
  async status(failureLimit = 100): Promise<CmdbSinkStatus> {
    const result = await this.#knex.raw(
      `WITH ${deviceValuesSql},
       joined AS (
         SELECT p.device_id, c.payload_hash IS DISTINCT FROM md5(p.ci_values::text) AS pending,
                c.synced_at, c.created_at, c.attempts, c.last_error, c.next_attempt_at
         FROM device p LEFT JOIN hub.cmdb_sink_state c USING (device_id))
       SELECT count(*)::integer AS devices,
              count(*) FILTER (WHERE NOT pending)::integer AS synced,
              count(*) FILTER (WHERE pending)::integer AS pending,
              count(*) FILTER (WHERE pending AND last_error IS NOT NULL)::integer AS failed,
              coalesce(extract(epoch FROM now() - min(coalesce(synced_at, created_at, now()))
                FILTER (WHERE pending)), 0)::double precision AS lag_seconds,
              coalesce(jsonb_agg(jsonb_build_object('deviceId', device_id, 'error', last_error,
                'attempts', attempts, 'nextAttemptAt', next_attempt_at) ORDER BY next_attempt_at, device_id)
                FILTER (WHERE pending AND last_error IS NOT NULL), '[]'::jsonb) AS failures
       FROM joined`,
      { resolution: this.#resolutionSeconds },
    );
    const row = result.rows[0] as {
      devices: number;
      synced: number;
      pending: number;
      failed: number;
      lag_seconds: number;
      failures: Array<{ deviceId: string; error: string; attempts: number; nextAttemptAt: string | null }>;
    };
    return {
      devices: row.devices,
      synced: row.synced,
      pending: row.pending,
      failed: row.failed,
      lagSeconds: Math.max(0, row.lag_seconds),
      failures: row.failures.slice(0, failureLimit).map((f) => ({
        ...f,
        nextAttemptAt: f.nextAttemptAt ? new Date(f.nextAttemptAt) : null,
      })),
    };
  }
}
