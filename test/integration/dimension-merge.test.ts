import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type CompiledMapping, loadMappingFile } from '../../src/mapping/index.ts';
import { dimensionTarget, mergeDimension } from '../../src/warehouse/index.ts';

// The SCD2 merge against the real PostgreSQL, driven by the shipped DimensionMapping for MDM devices: what
// Debezium's snapshot reads, updates, deletes and replays do to dw.dim_device.
describe('dimension merge (mdm-device → dw.dim_device)', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  afterAll(() => db.end());
  const loaded = loadMappingFile('mappings/mdm-device-v1.yaml');
  const mapping = loaded as CompiledMapping;
  const target = dimensionTarget(mapping);
  const sfx = randomUUID().slice(0, 8);
  let lsn = 1_000_000;

  /** One Debezium change of a device, mapped as the CDC stage maps it; each later call has a later LSN. */
  const change = (op: 'r' | 'c' | 'u' | 'd', device: Record<string, unknown>, position?: number) => {
    lsn += 100;
    const at = position ?? lsn;
    const result = mapping.map(
      { lifecycle_status: 'active', manufacturer: 'Acme', ...device },
      { op, lsn: at + 8, commit_lsn: at, source_ts_ms: Date.parse(String(device.updated_at)) },
    );
    expect(result.deadLetter).toBeNull();
    return result.rows[0]!;
  };
  const merge = async (...changes: Record<string, unknown>[]) => {
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const outcome = await mergeDimension(client, target, changes);
      await client.query('COMMIT');
      return outcome;
    } finally {
      client.release();
    }
  };
  const versions = async (nk: string) =>
    (
      await db.query(
        `SELECT device_sk::int AS device_sk, firmware_version, serial_number, is_current, is_inferred,
                CASE WHEN valid_from = '-infinity' THEN '-infinity' ELSE to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') END AS valid_from,
                CASE WHEN valid_to = 'infinity' THEN 'infinity' ELSE to_char(valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') END AS valid_to
         FROM dw.dim_device WHERE device_nk = $1 ORDER BY valid_from`,
        [nk],
      )
    ).rows;

  it('inserts, versions tracked changes, corrects type-1 columns on every version, and ignores replays', async () => {
    const nk = `mdm-${sfx}-1`;
    const snapshot = change('r', {
      device_id: nk,
      serial_number: 'SN-1',
      firmware_version: '1.0',
      updated_at: '2026-01-01T00:00:00Z',
    });
    expect(await merge(snapshot)).toMatchObject({ inserted: 1 });
    // A replay of the same change (a Connect restart re-sends from its last committed offset) changes nothing.
    expect(await merge(snapshot)).toMatchObject({ duplicates: 1, inserted: 0 });
    const firmware = change('u', {
      device_id: nk,
      serial_number: 'SN-1',
      firmware_version: '2.0',
      updated_at: '2026-03-01T00:00:00Z',
    });
    expect(await merge(firmware)).toMatchObject({ versioned: 1 });
    const serial = change('u', {
      device_id: nk,
      serial_number: 'SN-1b',
      firmware_version: '2.0',
      updated_at: '2026-04-01T00:00:00Z',
    });
    expect(await merge(serial)).toMatchObject({ corrected: 1, versioned: 0 });
    expect(await versions(nk)).toMatchObject([
      {
        firmware_version: '1.0',
        serial_number: 'SN-1b',
        is_current: false,
        valid_from: '-infinity',
        valid_to: '2026-03-01T00:00:00',
      },
      {
        firmware_version: '2.0',
        serial_number: 'SN-1b',
        is_current: true,
        valid_from: '2026-03-01T00:00:00',
        valid_to: 'infinity',
      },
    ]);
    // An older change arriving after a newer one (below the stored position) is a duplicate too.
    expect(
      await merge(
        change('u', { device_id: nk, firmware_version: '0.9', updated_at: '2025-12-01T00:00:00Z' }, 10),
      ),
    ).toMatchObject({
      duplicates: 1,
    });
    expect(await versions(nk)).toHaveLength(2);
  });

  it('completes an inferred member in place, keeping its surrogate key, and closes on delete', async () => {
    const nk = `mdm-${sfx}-2`;
    const { rows } = await db.query(
      `INSERT INTO dw.dim_device (device_nk, valid_from, is_inferred, lifecycle_status, row_hash, source_system)
       VALUES ($1, '-infinity', true, 'inferred', '\\x00', 'hub-ingest') RETURNING device_sk`,
      [nk],
    );
    const inferredSk = Number(rows[0].device_sk);
    expect(
      await merge(
        change('c', { device_id: nk, firmware_version: '1.0', updated_at: '2026-02-01T00:00:00Z' }),
      ),
    ).toMatchObject({
      completed: 1,
    });
    expect(await versions(nk)).toMatchObject([
      { device_sk: inferredSk, is_inferred: false, is_current: true, valid_from: '-infinity' },
    ]);
    expect(await merge(change('d', { device_id: nk, updated_at: '2026-05-01T00:00:00Z' }))).toMatchObject({
      closed: 1,
    });
    const [closed] = await versions(nk);
    expect(closed).toMatchObject({
      device_sk: inferredSk,
      is_current: false,
      valid_to: '2026-05-01T00:00:00',
    });
  });

  it('plans several changes of one key in one batch: the same versions as one change at a time', async () => {
    const nk = `mdm-${sfx}-3`;
    const outcome = await merge(
      change('r', {
        device_id: nk,
        serial_number: 'S-1',
        firmware_version: '1.0',
        updated_at: '2026-01-01T00:00:00Z',
      }),
      change('u', {
        device_id: nk,
        serial_number: 'S-1',
        firmware_version: '2.0',
        updated_at: '2026-02-01T00:00:00Z',
      }),
      change('u', {
        device_id: nk,
        serial_number: 'S-2',
        firmware_version: '3.0',
        updated_at: '2026-03-01T00:00:00Z',
      }),
      change('d', { device_id: nk, updated_at: '2026-04-01T00:00:00Z' }),
    );
    expect(outcome).toMatchObject({ inserted: 1, versioned: 2, corrected: 1, closed: 1 });
    expect(await versions(nk)).toMatchObject([
      {
        firmware_version: '1.0',
        serial_number: 'S-2',
        is_current: false,
        valid_from: '-infinity',
        valid_to: '2026-02-01T00:00:00',
      },
      {
        firmware_version: '2.0',
        serial_number: 'S-2',
        is_current: false,
        valid_from: '2026-02-01T00:00:00',
        valid_to: '2026-03-01T00:00:00',
      },
      {
        firmware_version: '3.0',
        serial_number: 'S-2',
        is_current: false,
        valid_from: '2026-03-01T00:00:00',
        valid_to: '2026-04-01T00:00:00',
      },
    ]);
  });

  it('writes a back-dated change into the history: the versions after it take its values, the current row its state', async () => {
    const nk = `mdm-${sfx}-5`;
    const device = { device_id: nk, serial_number: 'SN-5' };
    await merge(
      change('r', {
        ...device,
        firmware_version: '1.0',
        asset_id: 'A-1',
        updated_at: '2026-01-01T00:00:00Z',
      }),
    );
    await merge(
      change('u', {
        ...device,
        firmware_version: '2.0',
        asset_id: 'A-1',
        updated_at: '2026-03-01T00:00:00Z',
      }),
    );
    await merge(
      change('u', {
        ...device,
        firmware_version: '3.0',
        asset_id: 'A-1',
        updated_at: '2026-04-01T00:00:00Z',
      }),
    );
    // Committed last, effective first: the device was moved to A-2 on 1 February; MDM learnt of it later.
    const late = await merge(
      change('u', {
        ...device,
        firmware_version: '3.0',
        asset_id: 'A-2',
        updated_at: '2026-02-01T00:00:00Z',
      }),
    );
    expect(late).toMatchObject({
      late: 1,
      versioned: 1,
      keys: { changed: { [nk]: ['installed_asset_nk'] } },
    });
    const rows = await db.query(
      `SELECT firmware_version, installed_asset_nk AS asset, is_current,
              to_char(valid_from AT TIME ZONE 'UTC', 'MM-DD') AS valid_from, to_char(valid_to AT TIME ZONE 'UTC', 'MM-DD') AS valid_to,
              row_hash = (SELECT row_hash FROM dw.dim_device c WHERE c.device_nk = d.device_nk AND c.is_current) AS same_hash_as_current
       FROM dw.dim_device d WHERE device_nk = $1 ORDER BY d.valid_from`,
      [nk],
    );
    // Split at 1 February; from then on every version is at A-2, and each keeps its own firmware.
    expect(rows.rows).toEqual([
      {
        firmware_version: '1.0',
        asset: 'A-1',
        is_current: false,
        valid_from: null,
        valid_to: '02-01',
        same_hash_as_current: false,
      },
      {
        firmware_version: '1.0',
        asset: 'A-2',
        is_current: false,
        valid_from: '02-01',
        valid_to: '03-01',
        same_hash_as_current: false,
      },
      {
        firmware_version: '2.0',
        asset: 'A-2',
        is_current: false,
        valid_from: '03-01',
        valid_to: '04-01',
        same_hash_as_current: false,
      },
      {
        firmware_version: '3.0',
        asset: 'A-2',
        is_current: true,
        valid_from: '04-01',
        valid_to: null,
        same_hash_as_current: true,
      },
    ]);
    // The same change again (a Connect restart) changes nothing; a later real change still versions normally.
    expect(
      await merge(
        change(
          'u',
          { ...device, firmware_version: '3.0', asset_id: 'A-2', updated_at: '2026-02-01T00:00:00Z' },
          lsn,
        ),
      ),
    ).toMatchObject({ duplicates: 1 });
    expect(
      await merge(
        change('u', {
          ...device,
          firmware_version: '4.0',
          asset_id: 'A-2',
          updated_at: '2026-05-01T00:00:00Z',
        }),
      ),
    ).toMatchObject({ versioned: 1, late: 0 });
    expect(await versions(nk)).toHaveLength(5);
  });

  it('counts an update of an unknown key (applied as its first version) and a delete of an unknown key (nothing to close)', async () => {
    const orphan = change('u', {
      device_id: `mdm-${sfx}-6`,
      firmware_version: '1.0',
      updated_at: '2026-01-01T00:00:00Z',
    });
    expect(await merge({ ...orphan, source_op: 'u' })).toMatchObject({ inserted: 1, orphanUpdates: 1 });
    expect(await versions(`mdm-${sfx}-6`)).toMatchObject([{ valid_from: '-infinity', is_current: true }]);
    const gone = change('d', { device_id: `mdm-${sfx}-7`, updated_at: '2026-01-01T00:00:00Z' });
    expect(await merge({ ...gone, source_op: 'd' })).toMatchObject({
      unknownDeletes: 1,
      closed: 0,
      inserted: 0,
    });
    expect(await versions(`mdm-${sfx}-7`)).toEqual([]);
  });

  it('refuses a mapping whose target it cannot merge, naming the file', () => {
    expect(() =>
      dimensionTarget({ ...mapping, target: { ...mapping.target, natural_key: 'device' } }),
    ).toThrow(
      'mappings/mdm-device-v1.yaml (mapping mdm-device): target.natural_key must be one column named <name>_nk',
    );
  });
});
