import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { testContractsCommand } from '../../src/cli/contracts.ts';
import { tokenCommand } from '../../src/cli/token.ts';
import { withDatabase } from '../../src/db/index.ts';
import { type FactReading, loadReadings, recomputeDirtyHours } from '../../src/warehouse/index.ts';
import { freshDatabase, seedWarehouse, startTestApi, type TestApi } from './graphql-harness.ts';

// The contracts tested against the live warehouse (docs/data-products.md, "Test" and "Served"): a small warehouse
// loaded with the pipeline's own loader and rollup passes every check; a load that breaks a rule fails the run
// with the check named; the products are served over GraphQL, REST and /metrics without reading the fact table.

const databaseName = 'iot_hub_test_contracts_live';
const cacheHome = mkdtempSync(path.join(tmpdir(), 'contracts-live-'));
let url: string;
let api: TestApi;
let base: string;

interface DataProductAnswer {
  id: string;
  measured: { checksFailed: number; freshnessSeconds: number; lastLoadAt: string };
}

const hourMs = 3_600_000;

/** Readings of temperature, one a minute per current device in [from, to), through the fact loader and rollup. */
async function loadThroughPipeline(db: pg.Pool, from: number, to: number): Promise<void> {
  const { rows: devices } = await db.query<{ device_sk: number; asset_sk: number }>(
    `SELECT d.device_sk, a.asset_sk FROM dw.dim_device d
     JOIN dw.dim_asset a ON a.asset_nk = d.installed_asset_nk AND a.is_current
     WHERE d.is_current AND d.device_sk <> -1`,
  );
  const { rows: metric } = await db.query<{ metric_sk: number }>(
    `SELECT metric_sk FROM dw.dim_metric WHERE metric_code = 'temperature'`,
  );
  const readings: FactReading[] = [];
  for (const d of devices)
    for (let ts = from; ts < to; ts += 60_000)
      readings.push({
        deviceSk: d.device_sk,
        assetSk: d.asset_sk,
        metricSk: metric[0]!.metric_sk,
        tsMs: ts,
        value: 20 + (ts % 7),
        quality: 1,
        mappingId: 'telemetry-contracts',
        mappingVersion: 1,
        topic: 'telemetry.contracts',
        partition: 0,
        offset: String(readings.length),
      });
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const batch = await client.query<{ batch_id: number }>(
      `INSERT INTO hub.lineage (source, mapping_id, mapping_version, target_table)
       VALUES ('kafka:telemetry.contracts/0', 'telemetry-contracts', 1, 'dw.fact_sensor_reading') RETURNING batch_id`,
    );
    const outcome = await loadReadings(client, batch.rows[0]!.batch_id, readings);
    await client.query(
      `UPDATE hub.lineage SET messages_in = $2, rows_in = $2, rows_out = $3, rows_duplicate = $4,
         finished_at = now() WHERE batch_id = $1`,
      [batch.rows[0]!.batch_id, readings.length, outcome.inserted, outcome.duplicates],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
  while ((await recomputeDirtyHours(db, { settleMs: 0 })) > 0);
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end());
}

async function runTest(id?: string): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await testContractsCommand({ databaseUrl: url, dir: 'contracts', id }, (l) => lines.push(l));
  return { code, lines };
}

async function bearer(role: string): Promise<Record<string, string>> {
  const out: string[] = [];
  await tokenCommand(
    { role, ttl: '10m', subject: `contracts-${role}`, policyFile: 'schema/policy.yaml' },
    (l) => out.push(l),
    () => {},
  );
  return { authorization: `Bearer ${out[0]}` };
}

beforeAll(async () => {
  delete process.env.HUB_GRAPHQL_JWT_SECRET;
  process.env.XDG_CACHE_HOME = cacheHome;
  url = await freshDatabase(inject('serverUrl'), databaseName);
  api = await startTestApi(url);
  base = api.url.replace(/\/graphql$/, '');
  // Dimensions, CMDB CIs, dq and maintenance events; the readings come from the pipeline's loader below.
  await seedWarehouse(api.db, { devices: 4, readings: 0, readingsEnd: new Date() });
  const now = Date.now();
  // Three completed hours and the current one, so completeness over completed hours is exactly 1.
  await loadThroughPipeline(api.db, Math.floor(now / hourMs) * hourMs - 3 * hourMs, now - 60_000);
});

afterAll(async () => {
  await api?.close();
  await dropDatabase(inject('serverUrl'), databaseName);
  rmSync(cacheHome, { recursive: true, force: true });
});

describe('contracts test against the live warehouse', () => {
  it('passes every check of every contract after a load', async () => {
    const { code, lines } = await runTest();
    expect(lines.filter((l) => /^(failed|error)/.test(l))).toEqual([]);
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^RESULT\s+PRODUCT\s+ELEMENT\s+CHECK\s+VALUE\s+DETAILS$/);
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed, 0 errors, 0 skipped$/);
    expect(lines.find((l) => /fact_sensor_reading .*completeness_last_day/.test(l))).toMatch(/^passed .* 1 /);
  });

  it('fails, naming the check, when a load leaves a required column NULL', async () => {
    await api.db.query(
      `UPDATE dw.fact_maintenance_event SET work_order_number = NULL WHERE source_event_id = 'WO-dev-002'`,
    );
    try {
      const { code, lines } = await runTest('fact_maintenance_event');
      expect(code).toBe(1);
      expect(lines.filter((l) => l.startsWith('failed'))).toEqual([
        expect.stringMatching(
          /^failed\s+fact_maintenance_event\s+fact_maintenance_event\.work_order_number\s+work_order_number_present\s+1\s+measured 1, mustBe 0$/,
        ),
      ]);
    } finally {
      await api.db.query(
        `UPDATE dw.fact_maintenance_event SET work_order_number = source_event_id WHERE work_order_number IS NULL`,
      );
    }
  });

  it('refuses an unknown product with the known ids', async () => {
    await expect(runTest('readings')).rejects.toThrow(
      /no data contract 'readings' in contracts; known: dim_asset, /,
    );
  });
});

describe('data products served', () => {
  it('lists each product with owner, objectives and its measured status', async () => {
    api.db.statements.length = 0;
    const answer = await api.post(
      `{ dataProducts { id version owner team support contractPath
           objectives { property value unit element }
           measured { lastLoadAt freshnessSeconds freshnessObjectiveSeconds completeness checksPassed checksFailed
                      failingChecks checkedAt } } }`,
      {},
      await bearer('analyst'),
    );
    expect(answer.errors).toBeUndefined();
    const products = answer.data.dataProducts as DataProductAnswer[];
    expect(products.map((p) => p.id)).toHaveLength(8);
    const readings = products.find((p) => p.id === 'fact_sensor_reading')!;
    expect(readings).toMatchObject({
      version: '1.0.0',
      owner: 'iot-data-platform-lead',
      contractPath: '/data-products/fact_sensor_reading/contract',
      objectives: expect.arrayContaining([
        { property: 'latency', value: '2', unit: 'h', element: 'fact_sensor_hourly.hour_start' },
      ]),
    });
    expect(readings.measured).toMatchObject({
      freshnessObjectiveSeconds: 7200,
      completeness: 1,
      checksFailed: 0,
      failingChecks: [],
    });
    expect(readings.measured.freshnessSeconds).toBeLessThan(3600);
    expect(Date.now() - Date.parse(readings.measured.lastLoadAt)).toBeLessThan(10 * 60_000);
    for (const p of products) expect(p.measured.checksFailed, p.id).toBe(0);
    // The status reads the rollups, indexes and hub.lineage, never the readings themselves.
    expect(api.db.statements.filter((s) => /dw\.fact_sensor_reading\b/.test(s))).toEqual([]);
  });

  it('serves the contract YAML under the API authentication', async () => {
    const res = await fetch(`${base}/data-products/fact_dq_event/contract`, {
      headers: await bearer('analyst'),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(parse(await res.text())).toMatchObject({ kind: 'DataContract', id: 'fact_dq_event' });

    const anonymous = await fetch(`${base}/data-products/fact_dq_event/contract`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toMatch(/Authentication required/);
  });

  it('exports freshness and completeness per product in /metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (name: string, product: string) =>
      Number(new RegExp(`^${name}\\{[^}]*product="${product}"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('iot_hub_data_product_completeness_ratio', 'fact_sensor_reading')).toBe(1);
    expect(value('iot_hub_data_product_freshness_seconds', 'fact_sensor_hourly')).toBeLessThan(3600);
    expect(value('iot_hub_data_product_checks_failed', 'dim_device')).toBe(0);
  });
});

describe('a stale load', () => {
  it('fails the latency objective and the per-site freshness rule, naming both', async () => {
    await api.db.query('TRUNCATE dw.fact_sensor_reading, dw.fact_sensor_hourly, dw.fact_asset_hourly');
    const now = Date.now();
    await loadThroughPipeline(api.db, now - 6 * hourMs, now - 5 * hourMs);
    const { code, lines } = await runTest('fact_sensor_reading');
    expect(code).toBe(1);
    const failed = lines.filter((l) => l.startsWith('failed'));
    expect(failed).toEqual([
      expect.stringMatching(/fact_sensor_reading\s+completeness_last_day\s+/),
      expect.stringMatching(/fact_sensor_reading\s+stale_sites\s+2\s+measured 2, mustBe 0$/),
      expect.stringMatching(
        /fact_sensor_hourly\.hour_start\s+latency\s+[\d.]+\s+newest fact_sensor_hourly\.hour_start is \d+ s old, the objective is 7200 s$/,
      ),
    ]);
  });
});
