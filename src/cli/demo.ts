import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { simulate, stackUp } from '../devtools/index.ts';
import { startHub } from '../hub.ts';
import { endOffsets, readTelemetryConnector, waitForCatchUp } from '../ingest/index.ts';
import { createKafka } from '../kafka/index.ts';

/**
 * `iot-hub demo`: the whole pipeline on the local stack: stack up, simulate a small plant with faults, ingest it
 * into the warehouse, and answer a sample question from the star schema.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run the pipeline end to end on the local stack: simulate a plant, ingest it, query the warehouse',
    )
    .option('--devices <n>', 'simulated devices', '24')
    .option('--hours <n>', 'hours of telemetry', '6')
    .action(async (o: { devices: string; hours: string }) => {
      const config = loadConfig({ file: program.opts().config });
      config.http.port = 0;
      const log = (line: string) => console.log(line);
      const up = await stackUp(config, log);
      log(up.alreadyUp ? 'stack: already up' : `stack: up in ${up.seconds.toFixed(1)} s`);

      const connector = readTelemetryConnector();
      const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'iot-hub-demo' });
      const hub = await startHub({ ...config, log: { level: 'warn' } });
      try {
        log(
          `simulating ${o.devices} devices over ${o.hours} h, with faults (malformed, duplicates, late, unknown devices…)`,
        );
        const run = await simulate({
          seed: 'demo',
          idPrefix: 'demo-',
          devices: Number(o.devices),
          durationMs: Number(o.hours) * 3600_000,
          faults: {
            malformed: 0.005,
            duplicate: 0.01,
            late: 0.01,
            out_of_order: 0.01,
            future: 0.002,
            unknown_device: 0.05,
            spike: 0.005,
            stuck: 0.002,
          },
          databaseUrl: config.database.url,
          kafka: { brokers: config.kafka.brokers },
        });
        const l = run.ledger;
        log(
          `sent ${l.messages_sent} messages, ${l.readings_sent} readings (${l.duplicate_readings} duplicates, ${l.invalid_messages} invalid)`,
        );
        const ends = await endOffsets(kafka, connector.topics);
        const caughtUp = await waitForCatchUp(hub.ingest!.pool, connector.groupId, ends, {
          onProgress: (remaining) => log(`ingesting… ${remaining} records to go`),
        });
        if (!caughtUp)
          throw new Error('the ingest did not catch up within 5 minutes; see `iot-hub start` logs');
        await hub.ingest!.flushRollups();
        const pool = hub.ingest!.pool;
        const { rows: dl } = await pool.query<{ error_code: string; n: number }>(
          "SELECT error_code, count(*)::int AS n FROM hub.dead_letter WHERE status = 'pending' GROUP BY 1 ORDER BY 2 DESC",
        );
        log(
          `dead letters by code: ${dl.map((d) => `${d.error_code} ${d.n}`).join(', ') || 'none'}  (iot-hub dlq list)`,
        );
        const { rows } = await pool.query(
          `SELECT a.site_name AS site, m.metric_code AS metric, round(avg(h.avg_value)::numeric, 2) AS avg,
                  round(avg(h.completeness)::numeric, 3) AS completeness, sum(h.n_received)::int AS readings
           FROM dw.fact_sensor_hourly h JOIN dw.dim_asset a USING (asset_sk) JOIN dw.dim_metric m USING (metric_sk)
           JOIN dw.dim_device d USING (device_sk)
           WHERE m.metric_code IN ('temperature', 'vibration') AND h.hour_start >= $1 AND d.device_nk LIKE 'demo-%'
           GROUP BY 1, 2 ORDER BY 1, 2`,
          [run.ledger.first_reading_ts],
        );
        log('\nsample answer from the star schema (dw.fact_sensor_hourly): average by site and metric');
        console.table(rows);
        log(
          'next: `npx iot-hub start` serves http://127.0.0.1:4000/healthz, /readyz and /metrics and keeps ingesting',
        );
      } finally {
        await hub.stop();
      }
    });
}
