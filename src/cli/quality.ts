import type { Command } from 'commander';
import type { Knex } from '../db/index.ts';
import { parseDurationMs } from '../devtools/index.ts';
import { qualityReport } from '../quality/index.ts';
import { type WriteLine, withHubDatabase } from './tickets.ts';

/** `iot-hub quality report`: open dq events by site and check, and each device's completeness. Exit code 0. */
export async function qualityReportCommand(
  knex: Knex,
  o: { since: Date; json?: boolean },
  write: WriteLine,
): Promise<number> {
  const client = await knex.client.acquireConnection();
  try {
    const report = await qualityReport(client, o.since);
    if (o.json) {
      write(JSON.stringify(report));
      return 0;
    }
    write(`open data-quality issues (opened since ${o.since.toISOString()} in brackets):`);
    if (report.open.length === 0) write('  none');
    for (const r of report.open)
      write(
        `  ${r.site.padEnd(24)} ${r.check.padEnd(18)} ${String(r.open).padStart(5)} open, ${r.fail} fail (${r.openedSince})`,
      );
    write(`completeness since ${o.since.toISOString()} (received / expected readings):`);
    if (report.completeness.length === 0) write('  no hourly data');
    for (const c of report.completeness)
      write(
        `  ${c.device.padEnd(24)} ${c.site.padEnd(24)} ${c.completeness === null ? '   n/a' : `${(100 * c.completeness).toFixed(1).padStart(5)}%`} (${c.received}/${c.expected})`,
      );
    return 0;
  } finally {
    await knex.client.releaseConnection(client);
  }
}

/** Registers `quality report` on the iot-hub program (src/cli/index.ts). */
export function registerQualityCommand(program: Command): void {
  const quality = program.command('quality').description('data-quality monitoring (docs/data-quality.md)');
  quality
    .command('report')
    .description('open data-quality issues by site and check, and the completeness of each device')
    .option('--since <duration>', 'window for completeness and newly opened issues, e.g. 24h, 7d', '24h')
    .option('--json', 'one JSON object')
    .action(async (o: { since: string; json?: boolean }) => {
      const since = new Date(Date.now() - parseDurationMs(o.since, '--since'));
      process.exitCode = await withHubDatabase(program, (knex) =>
        qualityReportCommand(knex, { since, json: o.json }, console.log),
      );
    });
}
