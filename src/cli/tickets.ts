import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { createKnex, type Knex } from '../db/index.ts';
import { type AlertTicketSummary, listTickets } from '../itsm/index.ts';
import { retryFailedTickets } from '../quality/index.ts';

/** Where the commands write; tests pass a collecting writer. */
export type WriteLine = (line: string) => void;

/** Runs `work` with a small knex on the configured database (DATABASE_URL wins), and closes it. */
export async function withHubDatabase<T>(program: Command, work: (knex: Knex) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: program.opts().config });
  const knex = createKnex(config.database.url, { poolMax: 2, name: 'iot-hub-cli' });
  try {
    return await work(knex);
  } finally {
    await knex.destroy();
  }
}

/** Parses --limit; throws a sentence naming the flag. */
export function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--limit must be a whole number of at least 1, got "${text}"`);
  return n;
}

const columns: Array<[string, number, (r: AlertTicketSummary) => string]> = [
  ['ALERT', 7, (r) => String(r.alertId)],
  ['KEY', 40, (r) => r.alertKey],
  ['STATE', 10, (r) => r.status],
  ['TICKET', 12, (r) => r.ticketState ?? '-'],
  ['INCIDENT', 11, (r) => r.incident ?? '-'],
  ['LAST ERROR', 0, (r) => oneLine(r.lastError ?? '-', 120)],
];

/** The rows as an aligned table, or one JSON object per line. */
export function writeSummaries(rows: readonly AlertTicketSummary[], json: boolean, write: WriteLine): void {
  if (json) {
    for (const r of rows) write(JSON.stringify(r));
    return;
  }
  if (rows.length === 0) return;
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (columns[i]![1] ? c.padEnd(columns[i]![1]) : c))
      .join(' ')
      .trimEnd();
  write(line(columns.map(([title]) => title)));
  for (const r of rows) write(line(columns.map(([, , cell]) => cell(r))));
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** `iot-hub tickets list`: prints the intents and returns the exit code (0; a database error throws). */
export async function listTicketsCommand(
  knex: Knex,
  o: { failed?: boolean; json?: boolean; limit: number },
  write: WriteLine,
): Promise<number> {
  const rows = await listTickets(knex, { failed: o.failed, limit: o.limit });
  writeSummaries(rows, o.json === true, write);
  if (o.json) return 0;
  const failed = rows.filter((r) => r.ticketState === 'failed').length;
  if (rows.length === 0) write(o.failed ? 'no failed ticket intents' : 'no ticket intents');
  else
    write(
      `${rows.length} ticket intent(s)${rows.length === o.limit ? ` (newest ${o.limit}; --limit for more)` : ''}, ${failed} failed` +
        (failed > 0 ? '; once the cause is fixed: iot-hub tickets retry <key...>, or --failed for all' : ''),
    );
  return 0;
}

/**
 * `iot-hub tickets retry`: puts failed intents back to pending (retryFailedTickets), which wakes a running
 * hub's delivery at once. Exit codes: 0 done (or nothing failed with --failed); 1 a named key had no failed
 * intent; 2 neither keys nor --failed given.
 */
export async function retryTicketsCommand(
  knex: Knex,
  keys: readonly string[],
  o: { failed?: boolean },
  write: WriteLine,
): Promise<number> {
  if (keys.length === 0 && !o.failed) {
    write(
      'name the alert keys to retry (see iot-hub tickets list --failed), or pass --failed for every failed one',
    );
    return 2;
  }
  const retried = await retryFailedTickets(knex, keys.length > 0 ? keys : undefined);
  const missing = keys.filter((k) => !retried.includes(k));
  for (const key of retried) write(`retrying ${key}`);
  for (const key of missing)
    write(`${key}: no failed ticket intent with this alert key (see iot-hub tickets list --failed)`);
  if (retried.length > 0)
    write(
      `${retried.length} alert key(s) back to pending; a running hub delivers them now, otherwise at its next start`,
    );
  else if (keys.length === 0) write('no failed ticket intents');
  return missing.length > 0 ? 1 : 0;
}

/** Registers `tickets list` and `tickets retry` on the iot-hub program (src/cli/index.ts). */
export function registerTicketsCommand(program: Command): void {
  const tickets = program
    .command('tickets')
    .description('ServiceNow ticket intents of alerts: list them, retry failed ones');
  tickets
    .command('list')
    .description('ticket intents, newest first: alert key, alert state, ticket state, incident, last error')
    .option('--failed', 'only intents that failed for good')
    .option('--json', 'one JSON object per line')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { failed?: boolean; json?: boolean; limit: string }) => {
      const limit = parseLimit(o.limit);
      process.exitCode = await withHubDatabase(program, (knex) =>
        listTicketsCommand(knex, { ...o, limit }, console.log),
      );
    });
  tickets
    .command('retry')
    .description('put failed ticket intents back to pending once the cause is fixed')
    .argument('[keys...]', 'alert keys (see tickets list --failed)')
    .option('--failed', 'every failed intent')
    .action(async (keys: string[], o: { failed?: boolean }) => {
      process.exitCode = await withHubDatabase(program, (knex) =>
        retryTicketsCommand(knex, keys, o, console.log),
      );
    });
}
