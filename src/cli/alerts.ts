import type { Command } from 'commander';
import type { Knex } from '../db/index.ts';
import { listAlerts } from '../itsm/index.ts';
import { parseLimit, type WriteLine, withHubDatabase, writeSummaries } from './tickets.ts';

/** `iot-hub alerts list`: prints alerts with their tickets and returns the exit code (0). */
export async function listAlertsCommand(
  knex: Knex,
  o: { open?: boolean; json?: boolean; limit: number },
  write: WriteLine,
): Promise<number> {
  const rows = await listAlerts(knex, { open: o.open, limit: o.limit });
  writeSummaries(rows, o.json === true, write);
  if (o.json) return 0;
  if (rows.length === 0) write(o.open ? 'no open alerts' : 'no alerts');
  else
    write(
      `${rows.length} alert(s)${rows.length === o.limit ? ` (newest ${o.limit}; --limit for more)` : ''}` +
        `, ${rows.filter((r) => r.ticketState === 'failed').length} with a failed ticket`,
    );
  return 0;
}

/** Registers `alerts list` on the iot-hub program (src/cli/index.ts). */
export function registerAlertsCommand(program: Command): void {
  const alerts = program.command('alerts').description('alerts in hub.alert and their ServiceNow tickets');
  alerts
    .command('list')
    .description('alerts, newest first: alert key, state, ticket state, incident, last error')
    .option('--open', 'leave out cleared alerts')
    .option('--json', 'one JSON object per line')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { open?: boolean; json?: boolean; limit: string }) => {
      const limit = parseLimit(o.limit);
      process.exitCode = await withHubDatabase(program, (knex) =>
        listAlertsCommand(knex, { ...o, limit }, console.log),
      );
    });
}
