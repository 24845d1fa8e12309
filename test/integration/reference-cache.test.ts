import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ReferenceCache } from '../../src/enrich/index.ts';

// The enrichment snapshot against the real database: replaced whole (never seen empty), changes seen within a
// second of their commit, unseen devices fetched with their asset, inferred members private to their batch.
describe('reference cache', () => {
  const sfx = randomUUID().slice(0, 8);
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 8 });
  afterAll(() => db.end());

  const asset = async (nk: string) =>
    db.query(
      `INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_nk, site_name, hierarchy_path, valid_from, row_hash, source_system)
       VALUES ($1, 'asset', $1, $2, 'Cache site', $3, '-infinity', '\\x01', 'test')`,
      [nk, `site-${sfx}`, `c${nk.replaceAll('-', '_')}`],
    );
  const device = async (nk: string, assetNk: string) =>
    db.query(
      `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, valid_from, row_hash, source_system)
       VALUES ($1, $2, '-infinity', '\\x01', 'test')`,
      [nk, assetNk],
    );

  it('never resolves a known device to the unknown member while reloads run', async () => {
    await asset(`a0-${sfx}`);
    for (let i = 0; i < 20; i++) await device(`d${i}-${sfx}`, `a0-${sfx}`);
    const cache = new ReferenceCache(db, { maxAgeMs: 0, checkIntervalMs: 0 });
    await cache.reload();
    let resolved = 0;
    const until = Date.now() + 3000;
    // Several "partitions" take snapshots while every call reloads (maxAge 0).
    await Promise.all(
      [0, 1, 2].map(async () => {
        while (Date.now() < until) {
          const snapshot = await cache.current();
          for (let i = 0; i < 20; i++) {
            const keys = snapshot.keysAt(`d${i}-${sfx}`, Date.now());
            expect(keys.deviceSk).toBeGreaterThan(0);
            expect(keys.assetSk).toBeGreaterThan(0);
            resolved += 1;
          }
        }
      }),
    );
    expect(resolved).toBeGreaterThan(100);
  });

  it('sees a committed change within a second, and fetches an unseen device with its asset', async () => {
    const cache = new ReferenceCache(db);
    await cache.current();
    const started = Date.now();
    await asset(`a1-${sfx}`);
    await device(`new-${sfx}`, `a1-${sfx}`);
    let seenAfter = -1;
    while (Date.now() - started < 5000) {
      const snapshot = await cache.current();
      if (snapshot.hasDevice(`new-${sfx}`)) {
        seenAfter = Date.now() - started;
        expect(snapshot.keysAt(`new-${sfx}`, Date.now()).assetSk).toBeGreaterThan(0);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(seenAfter).toBeGreaterThanOrEqual(0);
    expect(seenAfter).toBeLessThan(1000);

    // A device committed after the snapshot was taken, asked for before any reload: fetched with its asset.
    const stale = cache.peek();
    await asset(`a2-${sfx}`);
    await device(`late-${sfx}`, `a2-${sfx}`);
    const client = await db.connect();
    try {
      const found = await cache.lookupDevices(client, stale, [`late-${sfx}`], 'infer');
      expect(found.inferred).toEqual([]);
      const keys = found.snapshot.keysAt(`late-${sfx}`, Date.now());
      expect(keys.deviceSk).toBeGreaterThan(0);
      expect(keys.assetSk).toBeGreaterThan(0);
    } finally {
      client.release();
    }
  });

  it('keeps an inferred member private to its batch until it commits; a rollback leaves no trace', async () => {
    const cache = new ReferenceCache(db, { checkIntervalMs: 0 });
    await cache.reload();
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const found = await cache.lookupDevices(client, cache.peek(), [`ghost-${sfx}`], 'infer');
      expect(found.inferred).toEqual([`ghost-${sfx}`]);
      expect(found.snapshot.keysAt(`ghost-${sfx}`, Date.now()).deviceSk).toBeGreaterThan(0);
      // Other batches do not see it, before or after a reload.
      expect(cache.peek().hasDevice(`ghost-${sfx}`)).toBe(false);
      expect((await cache.reload()).hasDevice(`ghost-${sfx}`)).toBe(false);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect((await cache.current()).hasDevice(`ghost-${sfx}`)).toBe(false);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM dw.dim_device WHERE device_nk = $1', [
      `ghost-${sfx}`,
    ]);
    expect(rows[0].n).toBe(0);

    // an unknown device that reports its asset (a mapping's dim_asset lookup) is inferred on that asset
    await asset(`a3-${sfx}`);
    const c3 = await db.connect();
    try {
      await c3.query('BEGIN');
      const placed = await cache.lookupDevices(
        c3,
        cache.peek(),
        [`placed-${sfx}`],
        'infer',
        new Map([[`placed-${sfx}`, `a3-${sfx}`]]),
      );
      expect(placed.inferred).toEqual([`placed-${sfx}`]);
      const { rows: a3 } = await c3.query('SELECT asset_sk FROM dw.dim_asset WHERE asset_nk = $1', [
        `a3-${sfx}`,
      ]);
      expect(placed.snapshot.keysAt(`placed-${sfx}`, Date.now()).assetSk).toBe(Number(a3[0].asset_sk));
      await c3.query('ROLLBACK');
    } finally {
      c3.release();
    }

    // quarantine leaves an unknown device unresolved instead of inferring it
    const c2 = await db.connect();
    try {
      const q = await cache.lookupDevices(c2, cache.peek(), [`nobody-${sfx}`], 'quarantine');
      expect(q).toMatchObject({ inferred: [], missing: [`nobody-${sfx}`] });
    } finally {
      c2.release();
    }
  });
});
