import path from 'node:path';
import type { Command } from 'commander';
import {
  type ApplyResult,
  applyConnectors,
  ConnectClient,
  ConnectorApplyError,
  type ConnectorReport,
  connectorFiles,
  connectorPlaceholders,
  connectorStatus,
  fillPlaceholders,
  readConnectorDefinition,
  recoverLostSlots,
} from '../cdc/index.ts';
import { loadConfig } from '../config/index.ts';
import { withDatabase } from '../db/index.ts';

/** `iot-hub connectors apply|status`: the Debezium connectors on the local Kafka Connect worker. */
export function registerConnectorsCommand(program: Command): void {
  const connectors = program
    .command('connectors')
    .description('the Kafka Connect connectors (connectors/debezium/*.json): apply them, show their state');

  connectors
    .command('apply')
    .description(
      'create or update each connector (only when its config differs), then wait until it and its tasks run',
    )
    .argument('[files...]', 'definition files (default: connectors/debezium/*.json)')
    .option('--dry-run', 'show what would be created, updated or restarted, change nothing')
    .option('--timeout <seconds>', 'how long to wait for each connector to run', '60')
    .action(async (files: string[], options: { dryRun?: boolean; timeout: string }) => {
      const config = loadConfig({ file: program.opts().config });
      const connect = new ConnectClient(config.connect.url);
      await connect.info(); // fails with "not reachable; run stack up" before any file is read
      const timeoutMs = Number(options.timeout) * 1000;
      if (!(timeoutMs > 0))
        throw new Error(`--timeout must be a positive number of seconds, not ${options.timeout}`);
      const sources = files.length > 0 ? files : connectorFiles();
      if (!options.dryRun) {
        const placeholders = connectorPlaceholders(config);
        await recoverLostSlots(
          connect,
          withDatabase(config.database.url, 'postgres'),
          sources.map((f) => fillPlaceholders(readConnectorDefinition(f), placeholders, f)),
          (line) => console.log(line),
        );
      }
      try {
        const results = await applyConnectors(connect, sources, {
          dryRun: options.dryRun,
          timeoutMs,
          placeholders: connectorPlaceholders(config),
        });
        printApply(results, !!options.dryRun);
      } catch (err) {
        if (!(err instanceof ConnectorApplyError)) throw err;
        printApply(err.results, false);
        throw err;
      }
    });

  connectors
    .command('status')
    .description('each connector and task with its state and worker, and each PostgreSQL source slot lag')
    .option('--json', 'print JSON: [{"name":"mdm-source","state":"RUNNING","tasks":[...],"slot":{...}}]')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig({ file: program.opts().config });
      const reports = await connectorStatus(new ConnectClient(config.connect.url), config.database.url);
      if (options.json) console.log(JSON.stringify(reports, null, 2));
      else if (reports.length === 0)
        console.log(`no connectors on ${config.connect.url}; run \`npx iot-hub connectors apply\``);
      else printStatus(reports);
      if (!reports.every(isRunning)) process.exitCode = 3;
    });
}

const wouldDo: Record<ApplyResult['action'], string> = {
  created: 'would create',
  updated: 'would update',
  unchanged: 'unchanged',
  restarted: 'would restart',
};

function printApply(results: ApplyResult[], dryRun: boolean): void {
  printTable(
    results.map((r) => [
      r.name,
      dryRun ? wouldDo[r.action] : r.action,
      r.error ? 'NOT RUNNING' : r.status ? 'RUNNING' : '',
      [r.file && displayPath(r.file), r.changedKeys.length ? `changed: ${r.changedKeys.join(', ')}` : '']
        .filter(Boolean)
        .join('  '),
    ]),
  );
}

function printStatus(reports: ConnectorReport[]): void {
  const rows: string[][] = [['NAME', 'STATE', 'TASKS', 'SLOT', 'LAG']];
  const notes: Map<number, string[]> = new Map();
  for (const r of reports) {
    const tasks = r.tasks.length ? r.tasks.map((t) => `${t.id} ${t.state} @${t.workerId}`) : ['none'];
    const s = r.slot;
    const slot = s ? `${s.name} ${!s.exists ? '(none)' : s.active ? 'active' : 'INACTIVE'}` : '-';
    const lag = s?.lagBytes == null ? '-' : formatBytes(s.lagBytes);
    rows.push([r.name, r.state, tasks[0]!, slot, lag]);
    for (const t of tasks.slice(1)) rows.push(['', '', t, '', '']);
    const problems = [r.trace, ...r.tasks.map((t) => t.trace && `task ${t.id}: ${t.trace}`), s?.error];
    notes.set(
      rows.length - 1,
      problems.filter((p): p is string => !!p),
    );
  }
  printTable(rows, notes);
}

/** Prints rows in columns as wide as their widest cell; `notes` go under the row with that index. */
function printTable(rows: string[][], notes: Map<number, string[]> = new Map()): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  rows.forEach((row, i) => {
    console.log(
      row
        .map((cell, c) => cell.padEnd(widths[c]! + 2))
        .join('')
        .trimEnd(),
    );
    for (const note of notes.get(i) ?? []) console.log(`  ! ${note}`);
  });
}

/** A path relative to the working directory when it is inside it. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

function isRunning(r: ConnectorReport): boolean {
  return r.state === 'RUNNING' && r.tasks.length > 0 && r.tasks.every((t) => t.state === 'RUNNING');
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}
