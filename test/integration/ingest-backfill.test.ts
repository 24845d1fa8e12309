import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { registerBackfillCommand } from '../../src/cli/backfill.ts';
import { registerDlqCommand } from '../../src/cli/dlq.ts';
import { loadConfig } from '../../src/config/index.ts';
import { ReferenceCache } from '../../src/enrich/index.ts';
import {
  loadFactRouter,
  readTelemetryConnector,
  replayDeadLetters,
  startIngest,
} from '../../src/ingest/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { dropTopics } from '../support/ingest-ledger.ts';

// Late data has a road: a reading older than late_data.max_lateness dead-letters as TOO_LATE, and
// `iot-hub backfill` loads it into its month's partition and recomputes its hourly rollup. A replay that does
// nothing says why, per id.
describe('backfill and replay reasons', () => {
  const sfx = randomUUID().slice(0, 8);
  const topic = `test.backfill.${sfx}`;
  const config = loadConfig();
  config.database.url = inject('databaseUrl');
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-backfill' });
  const db = new pg.Pool({ connectionString: config.database.url });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-backfill-'));
  const mappings = path.join(dir, 'mappings');
  const connectorFile = path.join(dir, 'telemetry.yaml');
  const savedUrl = process.env.DATABASE_URL;
  // A year and a month ago, on the hour plus a few minutes: one rollup hour, one month partition.
  const hour = Math.floor((Date.now() - 400 * 86_400_000) / 3600_000) * 3600_000;
  const month = new Date(hour).toISOString().slice(0, 7).replace('-', '');
  const letters: Record<'first' | 'second', number> = { first: 0, second: 0 };

  const message = (device: string, minute: number) =>
    JSON.stringify({
      schema: 'acme.telemetry',
      v: 2,
      deviceId: device,
      ts: new Date(hour + minute * 60_000).toISOString(),
      readings: [
        { m: 'TEMP', v: 20 + minute, u: 'degC' },
        { m: 'HUM', v: 40, u: '%' },
      ],
    });

  /** Runs one iot-hub command in this process, as the CLI would, and returns what it printed. */
  async function cli(register: (program: Command) => void, args: string[]): Promise<string[]> {
    const program = new Command('iot-hub').option('-c, --config <file>').exitOverride();
    register(program);
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      printed.push(String(line));
    });
    try {
      await program.parseAsync(args, { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    return printed;
  }

  beforeAll(async () => {
    process.env.DATABASE_URL = config.database.url;
    // A copy of mappings/ whose acme mapping reads this test's own topic, and a connector file naming both.
    cpSync('mappings', mappings, { recursive: true });
    const acme = path.join(mappings, 'telemetry-acme-v2.yaml');
    writeFileSync(acme, readFileSync(acme, 'utf8').replace('topic: telemetry.acme', `topic: ${topic}`));
    writeFileSync(
      connectorFile,
      `kind: TelemetryIngest\ntopics: [${topic}]\npartitions: 1\nmappings: ${mappings}\n`,
    );

    // Two year-old messages through the real ingest: each becomes one TOO_LATE letter.
    const ingest = await startIngest(config, {
      logger: createLogger('silent'),
      connector: readTelemetryConnector(connectorFile),
      groupId: `test-backfill-${sfx}`,
      mappingReload: false,
    });
    try {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send(topic, [
        { key: 'a', value: message(`backfill-${sfx}`, 5) },
        { key: 'b', value: message(`locked-${sfx}`, 10) },
      ]);
      await producer.disconnect();
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { rows } = await db.query<{ id: string; error_code: string; error_message: string }>(
          'SELECT id, error_code, error_message FROM hub.dead_letter WHERE source_topic = $1 ORDER BY source_offset',
          [topic],
        );
        if (rows.length === 2) {
          expect(rows.map((r) => r.error_code)).toEqual(['TOO_LATE', 'TOO_LATE']);
          expect(rows[0]!.error_message).toContain('load it as a backfill');
          letters.first = Number(rows[0]!.id);
          letters.second = Number(rows[1]!.id);
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`expected 2 TOO_LATE letters on ${topic}, got ${rows.length}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      // No hub runs from here on: the backfill command alone must load the facts and their rollup.
      await ingest.stop();
    }
  });

  afterAll(async () => {
    if (savedUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedUrl;
    await db.end();
    rmSync(dir, { recursive: true, force: true });
    await dropTopics(kafka, [topic]);
  });

  it('iot-hub backfill loads a year-old reading into its month and its hourly rollup', async () => {
    const printed = await cli(registerBackfillCommand, [
      'backfill',
      String(letters.first),
      '--connector',
      connectorFile,
    ]);
    expect(printed.at(-1)).toMatch(
      new RegExp(
        `^replayed 1 \\(#${letters.first}\\), still failing 0, not replayed 0; [1-9]\\d* rollup hour`,
      ),
    );

    const { rows: facts } = await db.query(
      `SELECT f.tableoid::regclass::text AS part, m.metric_code, f.value, f.mapping_version
       FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) JOIN dw.dim_metric m USING (metric_sk)
       WHERE d.device_nk = $1 ORDER BY m.metric_code`,
      [`backfill-${sfx}`],
    );
    expect(facts).toEqual([
      { part: `dw.fact_sensor_reading_${month}`, metric_code: 'humidity', value: 40, mapping_version: 2 },
      { part: `dw.fact_sensor_reading_${month}`, metric_code: 'temperature', value: 25, mapping_version: 2 },
    ]);
    const { rows: hourly } = await db.query(
      `SELECT m.metric_code, h.hour_start, h.n_received, h.avg_value
       FROM dw.fact_sensor_hourly h JOIN dw.dim_device d USING (device_sk) JOIN dw.dim_metric m USING (metric_sk)
       WHERE d.device_nk = $1 ORDER BY m.metric_code`,
      [`backfill-${sfx}`],
    );
    expect(hourly).toEqual([
      { metric_code: 'humidity', hour_start: new Date(hour), n_received: 1, avg_value: 40 },
      { metric_code: 'temperature', hour_start: new Date(hour), n_received: 1, avg_value: 25 },
    ]);
    const { rows: letter } = await db.query('SELECT status, replayed_at FROM hub.dead_letter WHERE id = $1', [
      letters.first,
    ]);
    expect(letter[0].status).toBe('replayed');

    // Asked again, by either command: nothing happens, and the output says why.
    const replayedAt = (letter[0].replayed_at as Date).toISOString();
    for (const [register, command] of [
      [registerDlqCommand, ['dlq', 'replay']],
      [registerBackfillCommand, ['backfill']],
    ] as const) {
      const again = await cli(register, [...command, String(letters.first), '--connector', connectorFile]);
      expect(again).toEqual([
        `#${letters.first} not replayed: already replayed at ${replayedAt}`,
        'replayed 0, still failing 0, not replayed 1; 0 rollup hour(s) recomputed',
      ]);
    }
    const missing = await cli(registerDlqCommand, [
      'dlq',
      'replay',
      '999999999999',
      '--connector',
      connectorFile,
    ]);
    expect(missing[0]).toBe(
      '#999999999999 not replayed: no such dead letter (iot-hub dlq list shows the pending ones)',
    );
  });

  it('a letter another replayer holds is reported as locked; dlq replay --allow-late loads it afterwards', async () => {
    const holder = await db.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM hub.dead_letter WHERE id = $1 FOR UPDATE', [letters.second]);
      const ctx = {
        router: loadFactRouter(readTelemetryConnector(connectorFile)),
        cache: new ReferenceCache(db),
      };
      const result = await replayDeadLetters(db, { ...ctx, allowLate: true }, { ids: [letters.second] });
      expect(result).toEqual({
        replayed: [],
        stillFailing: [],
        skipped: [
          {
            id: letters.second,
            reason: 'locked',
            message: 'locked by another replayer (try again when it is done)',
          },
        ],
      });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }

    // Without --allow-late it is still too late; with it, it loads.
    const plain = await cli(registerDlqCommand, [
      'dlq',
      'replay',
      String(letters.second),
      '--connector',
      connectorFile,
    ]);
    expect(plain[0]).toMatch(new RegExp(`^#${letters.second} still fails: TOO_LATE: reading time`));
    process.exitCode = undefined;
    const late = await cli(registerDlqCommand, [
      'dlq',
      'replay',
      String(letters.second),
      '--allow-late',
      '--connector',
      connectorFile,
    ]);
    expect(late.at(-1)).toMatch(new RegExp(`^replayed 1 \\(#${letters.second}\\), still failing 0`));
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM dw.fact_sensor_hourly h JOIN dw.dim_device d USING (device_sk)
       WHERE d.device_nk = $1 AND h.hour_start = $2`,
      [`locked-${sfx}`, new Date(hour)],
    );
    expect(rows[0].n).toBe(2);
  });
});
