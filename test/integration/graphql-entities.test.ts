import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { freshDatabase, seedWarehouse, startTestApi, type TestApi } from './graphql-harness.ts';

// Entities over a seeded warehouse (docs/graphql.md, "Entities" and "Lineage"), with governance replaced by a
// stand-in through its face so the statement counts are the resolvers' own.
vi.mock('../../src/graphql/governance/index.ts', async () =>
  (await import('./graphql-stand-in.ts')).governanceStandIn(),
);

const readingsEnd = new Date(Date.now() - 60 * 60_000);
const from = new Date(readingsEnd.getTime() - 24 * 3600_000).toISOString();
const to = new Date(readingsEnd.getTime() + 60_000).toISOString();
let api: TestApi;

beforeAll(async () => {
  const url = await freshDatabase(inject('serverUrl'), 'iot_hub_test_graphql_entities');
  api = await startTestApi(url);
  await seedWarehouse(api.db, { devices: 100, readings: 10, readingsEnd });
});

afterAll(async () => {
  await api?.close();
});

const deviceTree = `
  query Devices($first: Int!, $from: DateTime!, $to: DateTime!) {
    devices(first: $first) {
      id serialNumber firmwareVersion validFrom
      asset { name site { name } parent { id } ancestors { id } }
      configurationItem { name operationalStatus }
      readings(from: $from, to: $to, first: 3) {
        edges { cursor node { ts value quality metric { code unit } device { id } } }
        pageInfo { hasNextPage endCursor }
      }
      hourly(from: $from, to: $to) { avg received metric { code } }
      alerts { rule status metric { code } }
      dataQualityEvents { check metric { code } }
      maintenanceEvents { type technician asset { id } device { id } }
    }
  }`;

async function statementsFor(query: string, variables: Record<string, unknown>) {
  api.db.statements = [];
  const answer = await api.post(query, variables);
  expect(answer.errors).toBeUndefined();
  expect(answer.status).toBe(200);
  return { answer, statements: [...api.db.statements] };
}

describe('GraphQL entities', () => {
  it('runs as many SQL statements for 100 devices as for 10 (a DataLoader per hop)', async () => {
    const ten = await statementsFor(deviceTree, { first: 10, from, to });
    const hundred = await statementsFor(deviceTree, { first: 100, from, to });
    expect(ten.answer.data.devices).toHaveLength(10);
    expect(hundred.answer.data.devices).toHaveLength(100);
    const d1 = hundred.answer.data.devices[0];
    expect(d1).toMatchObject({
      id: 'dev-001',
      serialNumber: 'SN-001',
      firmwareVersion: '2.0',
      asset: {
        name: 'Asset M1',
        site: { name: 'Asset S1' },
        parent: { id: 'L1' },
        ancestors: [{ id: 'S1' }, { id: 'A1' }, { id: 'L1' }],
      },
      configurationItem: { name: 'CI dev-001', operationalStatus: 'operational' },
      alerts: [{ rule: 'temperature_high', status: 'open', metric: { code: 'temperature' } }],
      dataQualityEvents: [{ check: 'flat_line', metric: { code: 'temperature' } }],
      maintenanceEvents: [
        { type: 'calibration', technician: 'Jane Doe', asset: { id: 'M1' }, device: { id: 'dev-001' } },
      ],
    });
    expect(d1.readings.edges).toHaveLength(3);
    expect(d1.readings.edges[0].node).toMatchObject({
      metric: { code: 'temperature', unit: 'Cel' },
      device: { id: 'dev-001' },
    });
    expect(d1.hourly.length).toBeGreaterThan(0);
    // The dimension cache (docs/graphql.md) may answer some of the second query's hops from the first's rows, so
    // it runs at most as many statements, never more.
    expect(hundred.statements.length).toBeLessThanOrEqual(ten.statements.length);
    // One statement for the root and one per hop; nothing per row.
    expect(ten.statements.length).toBeLessThanOrEqual(16);
  });

  it('walks the asset hierarchy: ancestors from the site down, descendants nearest first', async () => {
    const { data } = await api.post(`{
      asset(id: "L1") { id level path parent { id } ancestors { id level } descendants { id } children { id }
                        devices { id } site { id name } }
      site(id: "S1") { name asset { descendants { id } } devices(first: 1000) { id } }
    }`);
    expect(data.asset).toMatchObject({
      id: 'L1',
      level: 'line',
      path: 'S1.A1.L1',
      parent: { id: 'A1' },
      ancestors: [
        { id: 'S1', level: 'site' },
        { id: 'A1', level: 'area' },
      ],
      descendants: [{ id: 'M1' }],
      children: [{ id: 'M1' }],
      devices: [],
      site: { id: 'S1', name: 'Asset S1' },
    });
    expect(data.site.asset.descendants.map((a: { id: string }) => a.id)).toEqual(['A1', 'L1', 'M1']);
    expect(data.site.devices).toHaveLength(50); // the odd devices, on M1 under S1
  });

  it('gives a device as of a past time: the old SCD2 version', async () => {
    const { data, errors } = await api.post(`{
      old: device(id: "dev-001", asOf: "2026-03-01T00:00:00Z") { firmwareVersion validFrom validTo isCurrent }
      now: device(id: "dev-001") { firmwareVersion validTo isCurrent
        asOf(at: "2026-02-01T00:00:00Z") { firmwareVersion } history { firmwareVersion } }
      before: device(id: "dev-001", asOf: "2025-01-01T00:00:00Z") { id }
    }`);
    expect(errors).toBeUndefined();
    expect(data.old).toEqual({
      firmwareVersion: '1.0',
      validFrom: '2026-01-01T00:00:00.000Z',
      validTo: '2026-06-01T00:00:00.000Z',
      isCurrent: false,
    });
    expect(data.now).toEqual({
      firmwareVersion: '2.0',
      validTo: null,
      isCurrent: true,
      asOf: { firmwareVersion: '1.0' },
      history: [{ firmwareVersion: '1.0' }, { firmwareVersion: '2.0' }],
    });
    expect(data.before).toBeNull();
  });

  it('pages readings with cursors, oldest first, to the end of the range', async () => {
    const page = `query Page($after: String, $from: DateTime!, $to: DateTime!) {
      readings(deviceId: "dev-002", from: $from, to: $to, metric: "temperature", first: 4, after: $after) {
        edges { cursor node { ts value } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { data, errors } = await api.post(page, { after, from, to });
      expect(errors).toBeUndefined();
      pages++;
      seen.push(...data.readings.edges.map((e: { node: { ts: string } }) => e.node.ts));
      expect(data.readings.pageInfo.endCursor).toBe(data.readings.edges.at(-1)?.cursor ?? null);
      if (!data.readings.pageInfo.hasNextPage) break;
      after = data.readings.pageInfo.endCursor;
    }
    expect(pages).toBe(3); // 10 readings, 4 a page
    expect(seen).toHaveLength(10);
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(10);
  });

  it('refuses bad arguments with an error a person can act on', async () => {
    const tooMany = await api.post(
      `{ readings(deviceId: "dev-001", from: "${from}", to: "${to}", first: 5000) { edges { cursor } } }`,
    );
    expect(tooMany.errors?.[0]?.message).toBe('first must be between 1 and 1000, got 5000');
    const badCursor = await api.post(
      `{ readings(deviceId: "dev-001", from: "${from}", to: "${to}", after: "xyz") { edges { cursor } } }`,
    );
    expect(badCursor.errors?.[0]?.message).toMatch(/^after: 'xyz' is not a cursor of this connection/);
    const metric = await api.post(
      `{ readings(deviceId: "dev-001", from: "${from}", to: "${to}", metric: "temp") { edges { cursor } } }`,
    );
    expect(metric.errors?.[0]?.message).toMatch(/^unknown metric 'temp'; known metrics: .*temperature/);
  });

  it('answers a query that does not fit the schema with 400 and the reason', async () => {
    const answer = await api.post('{ devices { id nope } }');
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0]?.message).toBe('Cannot query field "nope" on type "Device".');
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(
      /^the request body is not valid JSON: /,
    );
    const csrf = await fetch(`${api.url}?query=${encodeURIComponent('{ sites { id } }')}`);
    expect(csrf.status).toBe(400); // CSRF prevention: a simple GET without a preflight header is refused
    expect(await csrf.text()).toMatch(/CSRF/);
    const preflighted = await fetch(`${api.url}?query=${encodeURIComponent('{ sites { id } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
  });

  it("pushes the principal's sites into SQL as a row filter", async () => {
    const { data } = await api.post(
      `{ sites { id } devices(first: 1000) { id } alerts(first: 1000) { id }
         device(id: "dev-001") { id } other: device(id: "dev-002") { id } }`,
      {},
      { 'x-test-sites': 'S2' },
    );
    expect(data.sites).toEqual([{ id: 'S2' }]);
    expect(data.devices).toHaveLength(50);
    expect(data.alerts).toHaveLength(50);
    expect(data.device).toBeNull();
    expect(data.other).toEqual({ id: 'dev-002' });
  });

  it('traces Reading.value from the source topic through the mapping to the column', async () => {
    const { data, errors } = await api.post(`{
      lineage(field: "Reading.value") { field table column via
        sources { system topic mappingId mappingVersion mappingField batches rowsLoaded lastLoadedAt } } }`);
    expect(errors).toBeUndefined();
    expect(data.lineage).toMatchObject({
      field: 'Reading.value',
      table: 'dw.fact_sensor_reading',
      column: 'value',
      via: null,
    });
    expect(data.lineage.sources).toContainEqual({
      system: 'telemetry',
      topic: 'telemetry.acme',
      mappingId: 'telemetry-acme',
      mappingVersion: 2,
      mappingField: 'value',
      batches: 1,
      rowsLoaded: 1000,
      lastLoadedAt: expect.any(String),
    });
    const ts = await api.post(
      '{ lineage(field: "Reading.ts") { column sources { mappingId mappingField } } }',
    );
    expect(ts.data.lineage.column).toBe('reading_ts');
    expect(ts.data.lineage.sources).toContainEqual({ mappingId: 'telemetry-acme', mappingField: 'ts' });
    const unknown = await api.post('{ lineage(field: "Reading.nope") { table } }');
    expect(unknown.errors?.[0]?.message).toMatch(
      /^no lineage for 'Reading.nope'; fields of Reading with lineage: Reading.ts, /,
    );
  });
});

describe('readings of every metric', () => {
  it('pages readings of two metrics at the same instants in (time, metric) order, each once', async () => {
    // Humidity next to dev-003's temperature, at the same instants: the page is merged from one index range
    // per metric, and a cursor may fall between two metrics of one instant.
    await api.db.query(`
      INSERT INTO dw.fact_sensor_reading (device_sk, asset_sk, metric_sk, date_key, time_key, reading_ts, value,
        quality_code, batch_id, mapping_id, mapping_version, source_topic)
      SELECT f.device_sk, f.asset_sk, m.metric_sk, -1, -1, f.reading_ts, 50, 1, f.batch_id, f.mapping_id,
             f.mapping_version, f.source_topic
      FROM dw.fact_sensor_reading f JOIN dw.dim_device d ON d.device_sk = f.device_sk
      CROSS JOIN dw.dim_metric m WHERE d.device_nk = 'dev-003' AND m.metric_code = 'humidity'`);
    const page = `query Page($after: String, $from: DateTime!, $to: DateTime!) {
      readings(deviceId: "dev-003", from: $from, to: $to, first: 3, after: $after) {
        edges { node { ts metric { code } } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { data, errors } = await api.post(page, { after, from, to });
      expect(errors).toBeUndefined();
      seen.push(
        ...data.readings.edges.map(
          (e: { node: { ts: string; metric: { code: string } } }) => `${e.node.ts} ${e.node.metric.code}`,
        ),
      );
      if (!data.readings.pageInfo.hasNextPage) break;
      after = data.readings.pageInfo.endCursor;
    }
    const { rows } = await api.db.query(
      `
      SELECT to_char(f.reading_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' ' || m.metric_code AS r
      FROM dw.fact_sensor_reading f JOIN dw.dim_device d ON d.device_sk = f.device_sk
      JOIN dw.dim_metric m ON m.metric_sk = f.metric_sk
      WHERE d.device_nk = 'dev-003' AND f.reading_ts >= $1 AND f.reading_ts < $2
      ORDER BY f.reading_ts, f.metric_sk`,
      [from, to],
    );
    expect(rows).toHaveLength(20); // 10 instants × temperature and humidity
    expect(seen).toEqual(rows.map((r) => r.r));
  });
});
