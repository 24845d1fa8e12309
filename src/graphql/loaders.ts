import DataLoader from 'dataloader';
import type pg from 'pg';
import { decodeCursor, encodeCursor } from './args.ts';
import type { DimensionCache, DimensionTable } from './dimension-cache.ts';
import type { AuditTrail, Principal } from './governance/index.ts';
import type { IncidentSource } from './incidents.ts';
import type {
  AlertRow,
  AssetRow,
  CmdbCiRow,
  DeviceRow,
  DqEventRow,
  HourlyRow,
  IncidentRow,
  MaintenanceRow,
  MetricRow,
  ReadingConnectionRow,
  ReadingRow,
} from './rows.ts';
import {
  alertColumns,
  alertVisible,
  assetColumns,
  assetVisible,
  cmdbCiColumns,
  deviceColumns,
  deviceVisible,
  dqColumns,
  factVisible,
  hourlyColumns,
  maintenanceColumns,
  metricColumns,
  prepared,
  readingColumns,
} from './sql.ts';

// One DataLoader per hop, new per request (docs/graphql.md, "Entities"): every hop is one statement per
// distinct argument set, whatever the number of parent rows. To-many hops with a limit use unnest + LATERAL.

export interface ReadingsKey {
  deviceId: string;
  from: Date;
  to: Date;
  metric: string | null;
  first: number;
  after: string | null;
}
export interface HourlyKey {
  deviceId: string;
  from: Date;
  to: Date;
  metric: string | null;
}
export interface LimitedKey {
  id: string;
  first: number;
}

/** A DataLoader of one row per key whose `get` gives a row already cached without a promise. */
export type RowLoader<K, V> = DataLoader<K, V | null> & { get(key: K): V | null | Promise<V | null> };

export interface Loaders {
  asset: RowLoader<string, AssetRow>;
  assetBySk: RowLoader<number, AssetRow>;
  children: DataLoader<string, AssetRow[]>;
  ancestors: DataLoader<string, AssetRow[]>;
  descendants: DataLoader<string, AssetRow[]>;
  devicesOnAsset: DataLoader<string, DeviceRow[]>;
  devicesUnder: DataLoader<LimitedKey, DeviceRow[], string>;
  device: RowLoader<string, DeviceRow>;
  deviceAsOf: DataLoader<{ id: string; at: Date }, DeviceRow | null, string>;
  deviceBySk: RowLoader<number, DeviceRow>;
  deviceHistory: DataLoader<string, DeviceRow[]>;
  configurationItem: RowLoader<string, CmdbCiRow>;
  metricBySk: RowLoader<number, MetricRow>;
  metricByCode: RowLoader<string, MetricRow>;
  readings: DataLoader<ReadingsKey, ReadingConnectionRow, string>;
  hourly: DataLoader<HourlyKey, HourlyRow[], string>;
  alertsOfDevice: DataLoader<LimitedKey, AlertRow[], string>;
  dqEventsOfDevice: DataLoader<LimitedKey, DqEventRow[], string>;
  maintenanceOfDevice: DataLoader<LimitedKey, MaintenanceRow[], string>;
  maintenanceOfAsset: DataLoader<LimitedKey, MaintenanceRow[], string>;
  incident: DataLoader<string, IncidentRow | null>;
}

type Row = Record<string, unknown>;

export function createLoaders(
  db: pg.Pool,
  principal: Principal,
  audit: AuditTrail,
  incidents: IncidentSource,
  dimensions?: DimensionCache,
): Loaders {
  const sites = principal.sites;
  const query = async <T>(sql: string, params: unknown[], count = true): Promise<(T & Row)[]> => {
    const { rows } = await db.query(prepared(sql, params));
    if (count) audit.rows += rows.length;
    return rows as (T & Row)[];
  };
  // Dimension lookups that need no row filter (metrics, CIs) take the keys only.
  const withSites = (sql: string, keys: readonly unknown[]) => (sql.includes('$2') ? [keys, sites] : [keys]);

  /**
   * Loads one row per key; `keyColumn` is the selected column holding the key. With `cached`, the lookup shares
   * the process's dimension cache (dimension-cache.ts) and counts the rows it gives this request itself.
   */
  const byKey = <K extends string | number, V>(
    sql: string,
    keyColumn: string,
    arrayType: string,
    cached?: { table: DimensionTable; lookup: string },
  ) => {
    const cacheMap = cached && dimensions?.cacheMap<K, V | null>(cached.table, cached.lookup, sites);
    const loader = new DataLoader<K, V | null>(
      async (keys) => {
        const sqlText = sql.replace('$KEYS', `$1::${arrayType}`);
        const rows = await query<V>(sqlText, withSites(sql, keys), cacheMap === undefined);
        const found = new Map(rows.map((r) => [r[keyColumn] as K, strip<V>(r)]));
        return keys.map((k) => found.get(k) ?? null);
      },
      cacheMap ? { cacheMap } : {},
    );
    const rowLoader = loader as RowLoader<K, V>;
    if (!cacheMap) {
      rowLoader.get = (key) => loader.load(key);
      return rowLoader;
    }
    // The audit counts each row once per request, whether the cache or the database gave it.
    const counted = new Set<K>();
    const count = (key: K, row: V | null) => {
      if (row !== null && !counted.has(key)) {
        counted.add(key);
        audit.rows += 1;
      }
      return row;
    };
    const load = loader.load.bind(loader);
    loader.load = (key: K) => load(key).then((row) => count(key, row));
    // A row already in the cache is returned as it is: graphql-js then completes the field without a promise.
    rowLoader.get = (key) => {
      const hit = cacheMap.settled(key);
      return hit ? count(key, hit.value) : loader.load(key);
    };
    return rowLoader;
  };

  /** Loads a list per key; rows carry the key in "forKey" (dropped from the row). */
  const listByKey = <V>(sql: string, arrayType: string) =>
    new DataLoader<string, V[]>(async (keys) => {
      const rows = await query<V>(sql.replace('$KEYS', `$1::${arrayType}`), withSites(sql, keys));
      return groupRows<V>(keys, rows);
    });

  /** A list per key with a limit: one LATERAL statement per distinct `first`. */
  const limitedByKey = <V>(sql: string) =>
    groupedLoader<LimitedKey, V[]>(
      (k) => `${k.id}\u0000${k.first}`,
      (k) => String(k.first),
      async (group) => {
        const rows = await query<V>(sql, [group.map((k) => k.id), sites, group[0]!.first]);
        const lists = groupRows<V>(
          group.map((k) => k.id),
          rows,
        );
        return new Map(group.map((k, i) => [`${k.id}\u0000${k.first}`, lists[i]!]));
      },
      [],
    );

  const assetSql = `SELECT ${assetColumns('a')} FROM dw.dim_asset a
    WHERE a.is_current AND a.asset_nk = ANY($KEYS) AND ${assetVisible('a', '$2')}`;

  return {
    asset: byKey<string, AssetRow>(assetSql, 'id', 'text[]', { table: 'dim_asset', lookup: 'current' }),
    assetBySk: byKey<number, AssetRow>(
      `SELECT a.asset_sk AS "forKey", ${assetColumns('a')} FROM dw.dim_asset a
       WHERE a.asset_sk = ANY($KEYS) AND ${assetVisible('a', '$2')}`,
      'forKey',
      'bigint[]',
      { table: 'dim_asset', lookup: 'sk' },
    ),
    children: listByKey<AssetRow>(
      `SELECT a.parent_asset_nk AS "forKey", ${assetColumns('a')} FROM dw.dim_asset a
       WHERE a.is_current AND a.parent_asset_nk = ANY($KEYS) AND ${assetVisible('a', '$2')}
       ORDER BY a.hierarchy_path`,
      'text[]',
    ),
    ancestors: listByKey<AssetRow>(
      `SELECT b.descendant_asset_nk AS "forKey", ${assetColumns('a')}
       FROM dw.bridge_asset_hierarchy b JOIN dw.dim_asset a ON a.asset_nk = b.ancestor_asset_nk AND a.is_current
       WHERE b.descendant_asset_nk = ANY($KEYS) AND b.depth_from_ancestor > 0 AND ${assetVisible('a', '$2')}
       ORDER BY b.depth_from_ancestor DESC`,
      'text[]',
    ),
    descendants: listByKey<AssetRow>(
      `SELECT b.ancestor_asset_nk AS "forKey", ${assetColumns('a')}
       FROM dw.bridge_asset_hierarchy b JOIN dw.dim_asset a ON a.asset_nk = b.descendant_asset_nk AND a.is_current
       WHERE b.ancestor_asset_nk = ANY($KEYS) AND b.depth_from_ancestor > 0 AND ${assetVisible('a', '$2')}
       ORDER BY b.depth_from_ancestor, a.hierarchy_path`,
      'text[]',
    ),
    devicesOnAsset: listByKey<DeviceRow>(
      `SELECT d.installed_asset_nk AS "forKey", ${deviceColumns('d')} FROM dw.dim_device d
       WHERE d.is_current AND d.installed_asset_nk = ANY($KEYS) AND ${deviceVisible('d', '$2')}
       ORDER BY d.device_nk`,
      'text[]',
    ),
    devicesUnder: limitedByKey<DeviceRow>(
      `SELECT k.id AS "forKey", x.* FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (
         SELECT ${deviceColumns('d')} FROM dw.bridge_asset_hierarchy b
         JOIN dw.dim_device d ON d.installed_asset_nk = b.descendant_asset_nk AND d.is_current
         WHERE b.ancestor_asset_nk = k.id AND ${deviceVisible('d', '$2')}
         ORDER BY d.device_nk LIMIT $3) x`,
    ),
    device: byKey<string, DeviceRow>(
      `SELECT ${deviceColumns('d')} FROM dw.dim_device d
       WHERE d.is_current AND d.device_nk = ANY($KEYS) AND d.device_sk <> -1 AND ${deviceVisible('d', '$2')}`,
      'id',
      'text[]',
      { table: 'dim_device', lookup: 'current' },
    ),
    deviceAsOf: new DataLoader<{ id: string; at: Date }, DeviceRow | null, string>(
      async (keys) => {
        const rows = await query<DeviceRow>(
          `SELECT k.i AS "forKey", ${deviceColumns('d')}
           FROM unnest($1::text[], $3::timestamptz[]) WITH ORDINALITY AS k(id, at, i)
           JOIN dw.dim_device d ON d.device_nk = k.id AND d.valid_from <= k.at AND k.at < d.valid_to
           WHERE ${deviceVisible('d', '$2')}`,
          [keys.map((k) => k.id), sites, keys.map((k) => k.at)],
        );
        const found = new Map(rows.map((r) => [Number(r.forKey), strip<DeviceRow>(r)]));
        return keys.map((_, i) => found.get(i + 1) ?? null);
      },
      { cacheKeyFn: (k) => `${k.id}\u0000${k.at.toISOString()}` },
    ),
    deviceBySk: byKey<number, DeviceRow>(
      `SELECT ${deviceColumns('d')} FROM dw.dim_device d WHERE d.device_sk = ANY($KEYS) AND ${deviceVisible('d', '$2')}`,
      'deviceSk',
      'bigint[]',
      { table: 'dim_device', lookup: 'sk' },
    ),
    deviceHistory: listByKey<DeviceRow>(
      `SELECT d.device_nk AS "forKey", ${deviceColumns('d')} FROM dw.dim_device d
       WHERE d.device_nk = ANY($KEYS) AND ${deviceVisible('d', '$2')} ORDER BY d.valid_from`,
      'text[]',
    ),
    // The device's visibility was checked on the way here; a CI carries no site of its own.
    configurationItem: byKey<string, CmdbCiRow>(
      `SELECT DISTINCT ON (c.device_nk) ${cmdbCiColumns('c')} FROM dw.dim_cmdb_ci c
       WHERE c.is_current AND c.device_nk = ANY($KEYS) AND c.cmdb_ci_sk <> -1
       ORDER BY c.device_nk, c.valid_from DESC`,
      'deviceId',
      'text[]',
    ),
    metricBySk: byKey<number, MetricRow>(
      `SELECT ${metricColumns('m')} FROM dw.dim_metric m WHERE m.metric_sk = ANY($KEYS)`,
      'metricSk',
      'smallint[]',
      { table: 'dim_metric', lookup: 'sk' },
    ),
    metricByCode: byKey<string, MetricRow>(
      `SELECT ${metricColumns('m')} FROM dw.dim_metric m WHERE m.metric_code = ANY($KEYS)`,
      'code',
      'text[]',
      { table: 'dim_metric', lookup: 'code' },
    ),
    readings: groupedLoader<ReadingsKey, ReadingConnectionRow>(
      readingsKey,
      (k) => readingsKey({ ...k, deviceId: '' }),
      async (group) => {
        const { from, to, metric, first, after } = group[0]!;
        const cursor = after === null ? null : decodeCursor(after);
        const rows = await query<ReadingRow>(
          // The page is ordered by (reading_ts, metric_sk, device_sk), which the primary key (device_sk,
          // metric_sk, reading_ts) cannot supply across metrics: so take the first rows of every (device
          // version, metric) in key order, each an index range scan with a LIMIT, and merge those
          // (docs/graphql.md, "GraphQL benchmark"). greatest() ignores a NULL cursor and bounds the range.
          `SELECT k.id AS "forKey", x.* FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (
             SELECT y.* FROM dw.dim_device d CROSS JOIN dw.dim_metric m CROSS JOIN LATERAL (
               SELECT ${readingColumns('f', 'epoch')} FROM dw.fact_sensor_reading f
               WHERE f.device_sk = d.device_sk AND f.metric_sk = m.metric_sk
                 AND f.reading_ts >= greatest($3::timestamptz, $6::timestamptz) AND f.reading_ts < $4
                 AND ($6::timestamptz IS NULL OR (f.reading_ts, f.metric_sk, f.device_sk) > ($6, $7::smallint, $8::bigint))
                 AND ${factVisible('f', '$2')}
               ORDER BY f.reading_ts LIMIT $9) y
             WHERE d.device_nk = k.id AND ($5::text IS NULL OR m.metric_code = $5)
             ORDER BY y.ts, y."metricSk", y."deviceSk" LIMIT $9) x`,
          [
            group.map((k) => k.deviceId),
            sites,
            from,
            to,
            metric,
            cursor?.ts ?? null,
            cursor?.metricSk ?? null,
            cursor?.deviceSk ?? null,
            first + 1,
          ],
        );
        // A page of readings keeps its rows as pg made them ("forKey" is not a Reading field): no copy per row.
        const lists = groupRows<ReadingRow>(
          group.map((k) => k.deviceId),
          rows,
          false,
        );
        return new Map(group.map((k, i) => [readingsKey(k), toConnection(lists[i]!, first)]));
      },
      { edges: [], pageInfo: { hasNextPage: false, endCursor: null } },
    ),
    hourly: groupedLoader<HourlyKey, HourlyRow[]>(
      hourlyKey,
      (k) => hourlyKey({ ...k, deviceId: '' }),
      async (group) => {
        const { from, to, metric } = group[0]!;
        const rows = await query<HourlyRow>(
          `SELECT d.device_nk AS "forKey", ${hourlyColumns('h')} FROM dw.fact_sensor_hourly h
           JOIN dw.dim_device d ON d.device_sk = h.device_sk
           WHERE d.device_nk = ANY($1::text[]) AND h.hour_start >= $3 AND h.hour_start < $4
             AND ($5::text IS NULL OR h.metric_sk = (SELECT m.metric_sk FROM dw.dim_metric m WHERE m.metric_code = $5))
             AND ${factVisible('h', '$2')}
           ORDER BY h.hour_start, h.metric_sk LIMIT 10000`,
          [group.map((k) => k.deviceId), sites, from, to, metric],
        );
        const lists = groupRows<HourlyRow>(
          group.map((k) => k.deviceId),
          rows,
        );
        return new Map(group.map((k, i) => [hourlyKey(k), lists[i]!]));
      },
      [],
    ),
    alertsOfDevice: limitedByKey<AlertRow>(
      `SELECT k.id AS "forKey", x.* FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (
         SELECT ${alertColumns('al')} FROM hub.alert al
         WHERE al.device_id = k.id AND ${alertVisible('al', '$2')} ORDER BY al.opened_at DESC, al.id DESC LIMIT $3) x`,
    ),
    dqEventsOfDevice: limitedByKey<DqEventRow>(
      `SELECT k.id AS "forKey", x.* FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (
         SELECT ${dqColumns('e')} FROM dw.fact_dq_event e
         WHERE e.device_sk IN (SELECT d.device_sk FROM dw.dim_device d WHERE d.device_nk = k.id)
           AND ${factVisible('e', '$2')} ORDER BY e.opened_at DESC, e.dq_event_id DESC LIMIT $3) x`,
    ),
    maintenanceOfDevice: limitedByKey<MaintenanceRow>(
      `SELECT k.id AS "forKey", x.* FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (
         SELECT ${maintenanceColumns('m')} FROM dw.fact_maintenance_event m
         WHERE m.device_sk IN (SELECT d.device_sk FROM dw.dim_device d WHERE d.device_nk = k.id)
           AND ${factVisible('m', '$2')} ORDER BY m.started_at DESC, m.maintenance_event_id DESC LIMIT $3) x`,
    ),
    maintenanceOfAsset: limitedByKey<MaintenanceRow>(
      `SELECT k.id AS "forKey", x.* FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (
         SELECT ${maintenanceColumns('m')} FROM dw.fact_maintenance_event m
         WHERE m.asset_sk IN (SELECT a.asset_sk FROM dw.dim_asset a WHERE a.asset_nk = k.id)
           AND ${factVisible('m', '$2')} ORDER BY m.started_at DESC, m.maintenance_event_id DESC LIMIT $3) x`,
    ),
    incident: new DataLoader<string, IncidentRow | null>((sysIds) => incidents.load(sysIds)),
  };
}

const readingsKey = (k: ReadingsKey) =>
  JSON.stringify([k.deviceId, k.from.toISOString(), k.to.toISOString(), k.metric, k.first, k.after]);
const hourlyKey = (k: HourlyKey) =>
  JSON.stringify([k.deviceId, k.from.toISOString(), k.to.toISOString(), k.metric]);

/** The first `first` rows as edges; one more row fetched tells whether there is a next page. */
function toConnection(rows: ReadingRow[], first: number): ReadingConnectionRow {
  const edges = rows.slice(0, first).map((node) => ({ node }));
  const last = edges.at(-1);
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, endCursor: last ? readingCursor(last.node) : null },
  };
}

/** The cursor of a reading edge (ReadingEdge.cursor resolves it only when asked for). */
export function readingCursor(node: ReadingRow): string {
  return encodeCursor({ ts: node.tsText, metricSk: node.metricSk, deviceSk: node.deviceSk });
}

/** A DataLoader whose keys are batched per group (same arguments but the parent): one statement per group. */
function groupedLoader<K, V>(
  keyOf: (k: K) => string,
  groupOf: (k: K) => string,
  batch: (group: K[]) => Promise<Map<string, V>>,
  empty: V,
): DataLoader<K, V, string> {
  return new DataLoader<K, V, string>(
    async (keys) => {
      const groups = new Map<string, K[]>();
      for (const k of keys) {
        const g = groupOf(k);
        groups.set(g, [...(groups.get(g) ?? []), k]);
      }
      const results = new Map<string, V>();
      for (const part of await Promise.all([...groups.values()].map(batch)))
        for (const [k, v] of part) results.set(k, v);
      return keys.map((k) => results.get(keyOf(k)) ?? empty);
    },
    { cacheKeyFn: keyOf },
  );
}

function groupRows<V>(keys: readonly (string | number)[], rows: Row[], stripKey = true): V[][] {
  const lists = new Map<string, V[]>(keys.map((k) => [String(k), []]));
  for (const r of rows) lists.get(String(r.forKey))?.push(stripKey ? strip<V>(r) : (r as V));
  return keys.map((k) => lists.get(String(k)) ?? []);
}

function strip<V>(row: Row): V {
  const { forKey: _forKey, ...rest } = row;
  return rest as V;
}
