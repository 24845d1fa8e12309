import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { createPool } from '../db/index.ts';
import { ReferenceCache } from '../enrich/index.ts';
import {
  backfillDeadLetters,
  createIngestPool,
  flushRollupQueue,
  listDeadLetters,
  loadFactRouter,
  type ReplayResult,
  readTelemetryConnector,
  replayDeadLetters,
} from '../ingest/index.ts';
import { createLogger } from '../observability/index.ts';

/** `iot-hub dlq list|replay`: inspect dead letters, and run them through the pipeline again once fixed. */
export function registerDlqCommand(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('dead letters: records that failed validation, mapping or loading');

  dlq
    .command('list')
    .description('list dead letters, newest last')
    .option('--status <status>', 'pending | replayed | discarded', 'pending')
    .option('--code <code>', 'only this error code (e.g. SOURCE_INVALID)')
    .option('--topic <topic>', 'only this source topic')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON lines')
    .action(
      async (o: { status: 'pending'; code?: string; topic?: string; limit: string; json?: boolean }) => {
        const pool = createPool(loadConfig({ file: program.opts().config }).database.url, {
          max: 2,
          name: 'iot-hub-dlq',
        });
        try {
          const rows = await listDeadLetters(pool, {
            status: o.status,
            code: o.code,
            topic: o.topic,
            limit: parseLimit(o.limit),
          });
          for (const r of rows) {
            if (o.json) {
              console.log(
                JSON.stringify({
                  ...r,
                  payload: r.payload?.toString('utf8'),
                  message_key: r.message_key?.toString('utf8'),
                }),
              );
              continue;
            }
            const where = `${r.source_topic}/${r.source_partition}@${r.source_offset}`;
            const mapping = r.mapping_id ? ` ${r.mapping_id}@${r.mapping_version}` : '';
            console.log(
              `#${r.id} ${r.status} ${where}${mapping} ${r.error_code}: ${r.error_message}${r.error_location ? ` (${r.error_location})` : ''}`,
            );
            console.log(`    payload: ${truncate(r.payload?.toString('utf8') ?? '(none)', 160)}`);
          }
          if (!o.json) console.log(`${rows.length} dead letter(s)`);
        } finally {
          await pool.end();
        }
      },
    );

  dlq
    .command('replay')
    .description('replay pending dead letters through the current mappings; loaded ones are marked replayed')
    .argument('[ids...]', 'dead letter ids (default: every pending one matching the filters)')
    .option('--code <code>', 'only this error code')
    .option('--topic <topic>', 'only this source topic')
    .option('--limit <n>', 'at most this many letters', '10000')
    .option(
      '--connector <file>',
      'the telemetry connector whose mappings to use',
      'connectors/telemetry.yaml',
    )
    .option(
      '--allow-late',
      "ignore the mappings' late_data.max_lateness: load TOO_LATE letters as a backfill (same as iot-hub backfill)",
    )
    .action(
      async (
        ids: string[],
        o: { code?: string; topic?: string; limit: string; allowLate?: boolean; connector: string },
      ) => {
        const config = loadConfig({ file: program.opts().config });
        const router = loadFactRouter(readTelemetryConnector(o.connector));
        const pool = createIngestPool(config.database.url, 2, createLogger(config.log.level));
        try {
          const filter = {
            ids: parseIds(ids),
            code: o.code,
            topic: o.topic,
            limit: parseLimit(o.limit),
          };
          const ctx = { router, cache: new ReferenceCache(pool) };
          // Readings a replay loads queue their hours; recompute them now, in case no hub runs to do it.
          const result = o.allowLate
            ? await backfillDeadLetters(pool, ctx, filter)
            : {
                ...(await replayDeadLetters(pool, ctx, filter)),
                hoursRecomputed: await flushRollupQueue(pool),
              };
          printReplay(result, result.hoursRecomputed, console.log);
          if (result.stillFailing.length > 0) process.exitCode = 2;
        } finally {
          await pool.end();
        }
      },
    );
}

/** Dead letter ids from the command line; anything else is refused before touching the database. */
export function parseIds(ids: readonly string[]): number[] | undefined {
  if (ids.length === 0) return undefined;
  return ids.map((id) => {
    const n = Number(id.replace(/^#/, ''));
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new Error(`'${id}' is not a dead letter id (a positive number, as iot-hub dlq list prints it)`);
    return n;
  });
}

/** --limit as a positive whole number. */
export function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--limit ${text}: give a positive whole number`);
  return n;
}

/** One line per letter that did not load (still failing, or not replayed and why), then the totals. */
export function printReplay(
  result: ReplayResult,
  hoursRecomputed: number,
  write: (line: string) => void,
): void {
  for (const f of result.stillFailing) write(`#${f.id} still fails: ${f.code}: ${f.message}`);
  for (const s of result.skipped) write(`#${s.id} not replayed: ${s.message}`);
  const totals = [
    `replayed ${result.replayed.length}`,
    `still failing ${result.stillFailing.length}`,
    `not replayed ${result.skipped.length}`,
  ];
  if (result.replayed.length > 0 && result.replayed.length <= 20)
    totals[0] += ` (${result.replayed.map((id) => `#${id}`).join(', ')})`;
  write(`${totals.join(', ')}; ${hoursRecomputed} rollup hour(s) recomputed`);
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);
