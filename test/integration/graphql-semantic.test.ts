import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  compileMetricsQuery,
  loadSemanticModel,
  semanticResolvers,
} from '../../src/graphql/semantic/index.ts';
import { recomputeDirtyHours } from '../../src/warehouse/index.ts';

// The semantic layer against the real warehouse: questions compiled to one SQL statement, answered from the hourly
// rollup when the grain allows and from the raw readings otherwise, with the same numbers; the site row filter;
// the errors a BI user sees.
describe('semantic metrics (schema/semantic/*.yaml → one SQL statement)', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 3 });
  const model = loadSemanticModel();
  const sfx = randomUUID().slice(0, 8);
  const site = (n: number) => `sem-site-${n}-${sfx}`;
  const sites = [site(1), site(2)];
  const day = '2026-06-01';
  /** Readings every 10 minutes for 3 hours; device d on site s reads s*10 + d + minute/100. */
  const expected = new Map<string, number[]>();

  beforeAll(async () => {
    const assets: Array<{ nk: string; site: number }> = [];
    for (const s of [1, 2])
      for (const a of [1, 2]) assets.push({ nk: `sem-asset-${s}-${a}-${sfx}`, site: s });
    const assetSk = new Map<string, number>();
    for (const a of assets) {
      const { rows } = await db.query(
        `INSERT INTO dw.dim_asset (asset_nk, asset_level, asset_name, site_nk, site_name, line_nk, line_name,
           hierarchy_path, valid_from, row_hash, source_system)
         VALUES ($1, 'asset', $1, $2, $3, $4, 'Line', 'n' || md5($1)::text::ltree, '-infinity', '\\x01', 'test')
         RETURNING asset_sk`,
        [a.nk, site(a.site), `Site ${a.site} ${sfx}`, `line-${a.site}-${sfx}`],
      );
      assetSk.set(a.nk, Number(rows[0].asset_sk));
    }
    const metric = (await db.query("SELECT metric_sk FROM dw.dim_metric WHERE metric_code = 'temperature'"))
      .rows[0].metric_sk as number;
    let deviceIndex = 0;
    for (const a of assets) {
      for (let d = 1; d <= 2; d++) {
        deviceIndex += 1;
        const nk = `sem-dev-${deviceIndex}-${sfx}`;
        const { rows } = await db.query(
          `INSERT INTO dw.dim_device (device_nk, installed_asset_nk, model, expected_interval_s, valid_from, row_hash, source_system)
           VALUES ($1, $2, 'TX-1', 600, '-infinity', '\\x01', 'test') RETURNING device_sk`,
          [nk, a.nk],
        );
        const deviceSk = Number(rows[0].device_sk);
        const values: number[] = [];
        for (let minute = 0; minute < 180; minute += 10) {
          const value = a.site * 10 + d + minute / 100;
          values.push(value);
          const ts = new Date(Date.parse(`${day}T00:00:00Z`) + minute * 60_000);
          await db.query(
            `INSERT INTO dw.fact_sensor_reading (device_sk, asset_sk, metric_sk, date_key, time_key, reading_ts, value,
               quality_code, batch_id)
             VALUES ($1, $2, $3, 20260601, $4, $5, $6, $7, -1)`,
            [deviceSk, assetSk.get(a.nk), metric, minute, ts, value, minute === 0 ? 3 : 1],
          );
        }
        const list = expected.get(site(a.site)) ?? [];
        expected.set(site(a.site), [...list, ...values]);
        await db.query(
          `INSERT INTO hub.rollup_dirty (device_sk, metric_sk, hour_start)
           SELECT $1, $2, h FROM generate_series($3::timestamptz, $3::timestamptz + interval '2 hours', interval '1 hour') h`,
          [deviceSk, metric, `${day}T00:00:00Z`],
        );
      }
    }
    while ((await recomputeDirtyHours(db, { settleMs: 0 })) > 0);
  }, 60_000);

  afterAll(() => db.end());

  const mine = { member: 'readings.siteId', operator: 'equals' as const, values: sites };
  const run = async (request: Parameters<typeof compileMetricsQuery>[1], access = { sites: null }) => {
    const compiled = compileMetricsQuery(model, request, access);
    const { rows } = await db.query(compiled.sql, compiled.params);
    return { ...compiled, rows };
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('answers from the hourly rollup when the grain allows, with the same numbers as the raw readings', async () => {
    const question = {
      measures: ['readings.avgValue', 'readings.count', 'readings.suspectCount'],
      dimensions: ['readings.siteId'],
      filters: [mine],
      order: [{ member: 'readings.siteId', direction: 'asc' as const }],
    };
    const daily = await run({
      ...question,
      timeDimension: {
        dimension: 'readings.time',
        granularity: 'day',
        from: `${day}T00:00:00Z`,
        to: '2026-06-02T00:00:00Z',
      },
    });
    expect(daily.usedRollup).toBe(true);
    // By site only the asset aggregate of the rollup is needed (its devices summed, kept with the rollup).
    expect(daily.table).toBe('dw.fact_asset_hourly');
    expect(daily.sql).toContain('FROM dw.fact_asset_hourly f');
    // A device dimension needs the device key: the device-level rollup answers, with the same total.
    const perDevice = await run({
      measures: ['readings.count'],
      dimensions: ['readings.device'],
      filters: [mine],
      timeDimension: { dimension: 'readings.time', from: `${day}T00:00:00Z`, to: '2026-06-02T00:00:00Z' },
    });
    expect(perDevice.table).toBe('dw.fact_sensor_hourly');
    expect(perDevice.rows).toHaveLength(8);
    expect(perDevice.rows.map((r) => Number(r['readings.count']))).toEqual(Array(8).fill(18));
    // A time range that is not on whole hours can only be answered from the raw readings.
    const raw = await run({
      ...question,
      timeDimension: {
        dimension: 'readings.time',
        granularity: 'day',
        from: `${day}T00:00:00Z`,
        to: '2026-06-01T23:59:59Z',
      },
    });
    expect(raw.usedRollup).toBe(false);
    expect(raw.rollupNote).toBe('timeDimension.to does not fall on a whole hour');
    expect(raw.sql).toContain('FROM dw.fact_sensor_reading f');
    for (const answer of [daily, raw]) {
      expect(answer.rows.map((r) => r['readings.siteId'])).toEqual(sites);
      for (const row of answer.rows) {
        expect(row['readings.avgValue']).toBeCloseTo(mean(expected.get(row['readings.siteId'])!), 9);
        expect(Number(row['readings.count'])).toBe(72);
        // The first reading of each of the 4 devices per site is suspect.
        expect(Number(row['readings.suspectCount'])).toBe(4);
        expect(row['readings.time']).toBe(`${day}T00:00:00.000Z`);
      }
    }
  });

  it('reads the raw readings for a grain finer than the rollup, and refuses a rollup-only measure there', async () => {
    const minutes = await run({
      measures: ['readings.maxValue'],
      timeDimension: { dimension: 'readings.time', granularity: 'minute' },
      filters: [mine],
      limit: 5,
    });
    expect(minutes.usedRollup).toBe(false);
    expect(minutes.rollupNote).toBe("granularity minute is finer than the rollup's hour");
    expect(minutes.rows).toHaveLength(5);
    expect(minutes.rows[0]!['readings.time']).toBe(`${day}T00:00:00.000Z`);
    expect(() =>
      compileMetricsQuery(
        model,
        {
          measures: ['readings.completeness'],
          timeDimension: { dimension: 'readings.time', granularity: 'minute' },
        },
        { sites: null },
      ),
    ).toThrow(
      "readings.completeness can only be answered from the hour rollup, but granularity minute is finer than the rollup's hour",
    );
    const hourly = await run({
      measures: ['readings.completeness'],
      dimensions: ['readings.siteId'],
      timeDimension: { dimension: 'readings.time', granularity: 'hour' },
      filters: [mine],
    });
    // 6 readings an hour received, 3600 / 600 s expected.
    expect(hourly.rows).toHaveLength(6);
    for (const row of hourly.rows) expect(row['readings.completeness']).toBeCloseTo(1, 9);
  });

  it('applies the principal site filter in SQL, whatever the question asks', async () => {
    const answer = await run(
      { measures: ['readings.count'], dimensions: ['readings.siteId'], filters: [mine] },
      { sites: [site(2)] } as never,
    );
    expect(answer.rows).toEqual([{ 'readings.siteId': site(2), 'readings.count': '72' }]);
    expect(answer.sql).toMatch(/asset\.site_nk = ANY\(\$\d+::text\[\]\)/);
  });

  it('keeps values out of the SQL text: a quote in a filter value is just a value', async () => {
    const answer = await run({
      measures: ['readings.count'],
      filters: [
        { member: 'readings.site', operator: 'equals', values: ["x'; DROP TABLE dw.dim_metric; --"] },
      ],
    });
    expect(answer.sql).not.toContain('DROP');
    expect(answer.rows).toEqual([{ 'readings.count': '0' }]);
  });

  it('says what is wrong with a question, naming what would be valid', () => {
    const compile = (request: Parameters<typeof compileMetricsQuery>[1]) => () =>
      compileMetricsQuery(model, request, { sites: null });
    expect(compile({ measures: ['readings.avgValu'] })).toThrow(
      "readings.avgValu is not a measure of cube readings (did you mean 'readings.avgValue'?)",
    );
    expect(compile({ measures: ['avgValue'] })).toThrow(
      "'avgValue' is not a qualified member name; write <cube>.<member>",
    );
    expect(compile({ measures: ['readings.count', 'maintenance.workOrders'] })).toThrow(
      'members of one question must come from one cube; this one names readings and maintenance',
    );
    expect(
      compile({
        measures: ['readings.count'],
        timeDimension: { dimension: 'readings.time', granularity: 'hour', from: 'yesterday' },
      }),
    ).toThrow("timeDimension.from 'yesterday' is not an ISO 8601 time");
    expect(compile({ measures: ['readings.count'], limit: 50_000 })).toThrow(
      'limit must be an integer from 1 to 10000',
    );
  });

  it('answers through GraphQL: one statement per question, SQL shown to admins only, errors as GraphQL errors', async () => {
    const typeDefs = [
      'type Query { _unused: Boolean }',
      readFileSync('schema/governance.graphql', 'utf8'),
      readFileSync('schema/semantic.graphql', 'utf8'),
    ];
    const schema = makeExecutableSchema({ typeDefs, resolvers: semanticResolvers as never });
    let statements = 0;
    const counted = {
      query: (...args: Parameters<pg.Pool['query']>) => {
        statements += 1;
        return db.query(...(args as unknown as [string, unknown[]]));
      },
    };
    const ask = (role: string, source: string) =>
      graphql({
        schema,
        source,
        contextValue: {
          principal: { subject: 'test', role, kind: 'user', sites: null, claims: {} },
          db: counted,
          audit: { fields: new Set(), classifications: new Set(), rows: 0 },
        },
      });
    const source = `{ metrics(measures: ["readings.avgValue"], dimensions: ["readings.siteId"],
        filters: [{member: "readings.siteId", operator: EQUALS, values: ${JSON.stringify(sites)}}],
        timeDimension: {dimension: "readings.time", granularity: HOUR}) {
      cube usedRollup columns { name kind type } rows sql } }`;
    const admin = await ask('admin', source);
    expect(admin.errors).toBeUndefined();
    expect(statements).toBe(1);
    const metrics = admin.data!.metrics as Record<string, unknown>;
    expect(metrics).toMatchObject({ cube: 'readings', usedRollup: true });
    expect(metrics.columns).toEqual([
      { name: 'readings.siteId', kind: 'DIMENSION', type: 'string' },
      { name: 'readings.time', kind: 'TIME', type: 'time' },
      { name: 'readings.avgValue', kind: 'MEASURE', type: 'number' },
    ]);
    expect(metrics.rows).toHaveLength(6);
    expect(metrics.sql).toContain('FROM dw.fact_asset_hourly f');
    const analyst = await ask('analyst', source);
    expect((analyst.data!.metrics as Record<string, unknown>).sql).toBeNull();
    const bad = await ask('analyst', '{ metrics(measures: ["readings.nope"]) { rows } }');
    expect(bad.errors?.[0]).toMatchObject({
      message: expect.stringContaining('readings.nope is not a measure of cube readings'),
      extensions: { code: 'BAD_METRICS_QUERY' },
    });
    const listed = await ask('analyst', '{ metricsModel { name measures { name rollupOnly } rollupGrain } }');
    const cubes = listed.data!.metricsModel as Array<{
      name: string;
      measures: { name: string; rollupOnly: boolean }[];
    }>;
    expect(cubes.map((c) => c.name).sort()).toEqual(['dataQuality', 'maintenance', 'readings']);
    expect(cubes.find((c) => c.name === 'readings')!.measures).toContainEqual({
      name: 'readings.completeness',
      rollupOnly: true,
    });
  });
});
