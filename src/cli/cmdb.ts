import type { Command } from 'commander';
import { CmdbSink, type CmdbSinkStatus, CmdbSinkStore } from '../cdc/index.ts';
import { loadConfig } from '../config/index.ts';
import { createKnex, type Knex } from '../db/index.ts';
import { createLogger } from '../observability/index.ts';
import { parseLimit, type WriteLine, withHubDatabase } from './tickets.ts';

/** The status as lines a person reads: counts, then each failed device with its error and next attempt. */
export function writeCmdbStatus(status: CmdbSinkStatus, write: WriteLine): void {
  write(
    `${status.devices} device(s): ${status.synced} in sync, ${status.pending} pending (${status.failed} failed)` +
      (status.pending > 0 ? `, stalest pending ${Math.round(status.lagSeconds)} s behind` : ''),
  );
  for (const f of status.failures) {
    const next = f.nextAttemptAt ? f.nextAttemptAt.toISOString() : 'next pass';
    write(`${f.deviceId}: attempt ${f.attempts} failed, next attempt ${next}: ${f.error}`);
  }
  if (status.failures.length < status.failed)
    write(`… ${status.failed - status.failures.length} more failed device(s) (--limit for more)`);
}

/** `iot-hub cmdb status`: exit code 0 when nothing failed, 1 when some device's last attempt failed. */
export async function cmdbStatusCommand(
  knex: Knex,
  o: { json?: boolean; limit: number; lastSeenResolutionSeconds: number },
  write: WriteLine,
): Promise<number> {
  const status = await new CmdbSinkStore(knex, o).status(o.limit);
  if (o.json) write(JSON.stringify(status));
  else writeCmdbStatus(status, write);
  return status.failed > 0 ? 1 : 0;
}

/** Registers `cmdb status` and `cmdb sync` on the iot-hub program (src/cli/index.ts). */
export function registerCmdbCommand(program: Command): void {
  const cmdb = program
    .command('cmdb')
    .description('the ServiceNow CMDB sink: devices and their health as CIs through IRE');
  cmdb
    .command('status')
    .description('devices in sync and pending, and each failed device with its error and next attempt')
    .option('--json', 'one JSON object')
    .option('--limit <n>', 'show at most this many failed devices', '50')
    .action(async (o: { json?: boolean; limit: string }) => {
      const limit = parseLimit(o.limit);
      const config = loadConfig({ file: program.opts().config });
      process.exitCode = await withHubDatabase(program, (knex) =>
        cmdbStatusCommand(
          knex,
          { ...o, limit, lastSeenResolutionSeconds: config.cmdbSink.lastSeenResolutionSeconds },
          console.log,
        ),
      );
    });
  cmdb
    .command('sync')
    .description('one pass now: send every device whose CI changed or whose retry is due')
    .action(async () => {
      const config = loadConfig({ file: program.opts().config });
      const knex = createKnex(config.database.url, { poolMax: 2, name: 'iot-hub-cli' });
      try {
        const sink = new CmdbSink(config, knex, { logger: createLogger('warn') });
        const r = await sink.runPass();
        console.log(
          `${r.synced} CI(s) synced, ${r.failed} failed, ${r.calls} IRE call(s)` +
            (r.stoppedEarly ? '; stopped early (ServiceNow down or refusing), the rest waits' : ''),
        );
        writeCmdbStatus(await sink.store.status(50), console.log);
        process.exitCode = r.failed > 0 ? 1 : 0;
      } finally {
        await knex.destroy();
      }
    });
}
