import { type Command, Option } from 'commander';
import { loadConfig } from '../config/index.ts';
import {
  faultKinds,
  parseDurationMs,
  parseFaultRates,
  parseRate,
  type SimulationLedger,
  type SimulationProgress,
  simulate,
  vendorFormats,
} from '../devtools/index.ts';

interface SimulateCliOptions {
  devices: string;
  sites: string;
  duration: string;
  interval: string;
  start?: string;
  rate?: string;
  asFastAsPossible?: boolean;
  realtime?: boolean;
  seed: string;
  faults: string;
  groundTruth?: string;
  seedMdm: boolean;
  seedCmms: boolean;
  seedWarehouse: boolean;
  vendors: string;
  topic: string[];
  idPrefix: string;
  partitions: string;
  batchSize: string;
  gzip?: boolean;
  windowCheck: boolean;
  json?: boolean;
}

/**
 * `iot-hub simulate`: writes a generated fleet into the source systems (MDM, CMMS), from where CDC carries it into
 * the warehouse dimensions, and sends its telemetry, faults included, to Kafka in every vendor format; prints
 * progress every few seconds and the ledger. `--seed-warehouse` writes the dimensions directly, for a hub running
 * without its CDC stage.
 */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'generate a plant fleet, write it into MDM and the CMMS (CDC carries it to the warehouse), and send its telemetry (with faults) to Kafka',
    )
    .option('--devices <n>', 'registered devices', '20')
    .option('--sites <n>', 'sites (each with 2–3 areas of 1–3 lines)', '2')
    .option('--duration <duration>', 'simulated window, e.g. 90m, 1h, 7d', '1h')
    .option('--interval <duration>', 'reporting interval of every device, whole seconds', '60s')
    .option('--start <iso>', 'first instant of the window (default: top of this hour minus --duration)')
    .addOption(
      new Option('--rate <rate>', 'messages per second, e.g. 500/s (default: as fast as possible)').conflicts(
        ['asFastAsPossible', 'realtime'],
      ),
    )
    .option('--as-fast-as-possible', 'send without pacing (the default)')
    .addOption(
      new Option('--realtime', 'start now and send each reading at its time on the wall clock').conflicts(
        'asFastAsPossible',
      ),
    )
    .option('--seed <seed>', 'seed of every random choice: same seed and options, same messages', '1')
    .option(
      '--faults <list>',
      `fault rates, e.g. drift=0.01,malformed=0.001; kinds: ${faultKinds.join(', ')}`,
      '',
    )
    .option('--ground-truth <file>', 'write the injected faults and the exact ledger to this JSON file')
    .option('--no-seed-mdm', 'do not upsert the fleet into the sample MDM database')
    .option('--no-seed-cmms', 'do not write maintenance work orders into the sample CMMS database')
    .option(
      '--seed-warehouse',
      'also upsert the fleet into dw.dim_asset, bridge_asset_hierarchy, dim_device directly (a hub without CDC)',
    )
    .option('--vendors <list>', 'wire formats to split devices across', Object.keys(vendorFormats).join(','))
    .option('--topic <vendor=topic>', 'send a vendor format to another topic (repeatable)', collect, [])
    .option('--id-prefix <prefix>', 'prefix of every asset and device id', '')
    .option('--partitions <n>', 'partitions of topics this run creates', '4')
    .option('--batch-size <n>', 'messages per producer send', '2000')
    .option('--gzip', 'compress producer batches with gzip')
    .option(
      '--no-window-check',
      "allow a window the mappings' late_data would partly dead-letter (history for a backfill; the ledger then assumes a backfill)",
    )
    .option('--json', 'print the result (ledger, topics, seeding counts) as JSON')
    .action(async (options: SimulateCliOptions) => {
      const config = loadConfig({ file: program.opts().config });
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const result = await simulate({
          seed: /^\d+$/.test(options.seed) ? Number(options.seed) : options.seed,
          devices: integer(options.devices, '--devices', 0),
          sites: integer(options.sites, '--sites', 1),
          durationMs: parseDurationMs(options.duration, '--duration'),
          intervalMs: parseDurationMs(options.interval, '--interval'),
          ...(options.start ? { start: isoDate(options.start) } : {}),
          ...(options.realtime
            ? { realtime: true as const }
            : { rate: options.rate ? parseRate(options.rate) : null }),
          faults: parseFaultRates(options.faults),
          groundTruthFile: options.groundTruth ?? null,
          seedMdm: options.seedMdm,
          seedCmms: options.seedCmms,
          seedWarehouse: options.seedWarehouse === true,
          vendors: options.vendors.split(',').map((v) => v.trim()),
          topics: Object.fromEntries(options.topic.map(vendorTopic)),
          idPrefix: options.idPrefix,
          partitions: integer(options.partitions, '--partitions', 1),
          batchSize: integer(options.batchSize, '--batch-size', 1),
          compression: options.gzip ? 'gzip' : 'none',
          ...(options.windowCheck ? {} : { lateData: null }),
          kafka: { brokers: config.kafka.brokers },
          databaseUrl: config.database.url,
          onProgress: options.json ? undefined : printProgress,
          signal: controller.signal,
        });
        if (options.json) {
          const { ledger, topics, mdm, cmms, warehouse, completed, elapsedMs, groundTruthFile, groundTruth } =
            result;
          console.log(
            JSON.stringify(
              {
                completed,
                elapsedMs,
                topics,
                mdm,
                cmms,
                warehouse,
                groundTruthFile,
                faultCounts: groundTruth.fault_counts,
                ledger,
              },
              null,
              2,
            ),
          );
          return;
        }
        if (result.mdm)
          console.log(`mdm: ${result.mdm.assets} assets, ${result.mdm.devices} devices written`);
        if (result.warehouse) {
          const w = result.warehouse;
          console.log(
            `warehouse: ${w.assets} dim_asset, ${w.bridgeRows} bridge, ${w.devices} dim_device rows written`,
          );
        }
        console.log(
          `topics: ${Object.entries(result.topics)
            .map(([v, t]) => `${v} → ${t}`)
            .join(', ')}`,
        );
        printLedger(result.ledger);
        const counts = Object.entries(result.groundTruth.fault_counts).map(([k, n]) => `${k} ${n}`);
        if (counts.length) console.log(`faults injected: ${counts.join(', ')}`);
        if (result.groundTruthFile) console.log(`ground truth: ${result.groundTruthFile}`);
        if (!result.completed) console.log('stopped early: the ledger covers what was sent');
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}

function printProgress(p: SimulationProgress): void {
  if (p.done) return;
  console.log(
    `${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s  ${fmt(p.messagesSent)} messages, ${fmt(p.readingsSent)} readings, ` +
      `${fmt(Math.round(p.messagesPerSecond))} msg/s, simulated ${p.simulatedTime ?? '-'}`,
  );
}

function printLedger(l: SimulationLedger): void {
  console.log(
    `sent ${fmt(l.messages_sent)} messages: ${fmt(l.valid_messages)} valid, ${fmt(l.invalid_messages)} invalid ` +
      `(${l.broken_json_messages} broken JSON, ${l.schema_invalid_messages} schema-invalid, ${l.future_messages} future-dated)`,
  );
  console.log(
    `readings: ${fmt(l.readings_sent)} sent, ${fmt(l.unique_valid_readings)} unique valid (expected fact rows), ` +
      `${fmt(l.duplicate_readings)} duplicates, ${fmt(l.unknown_device_readings)} from ${l.unknown_devices} unknown devices`,
  );
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function vendorTopic(entry: string): [string, string] {
  const [vendor, topic] = entry.split('=').map((s) => s.trim());
  if (!vendor || !topic)
    throw new RangeError(`--topic: '${entry}' must be vendor=topic, e.g. acme=telemetry.acme`);
  return [vendor, topic];
}

function integer(text: string, option: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new RangeError(`${option}: '${text}' must be an integer >= ${min}`);
  return n;
}

function isoDate(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime()) || !/(Z|[+-]\d\d:?\d\d)$/.test(text)) {
    throw new RangeError(`--start: '${text}' must be ISO-8601 with a zone, e.g. 2026-08-20T00:00:00Z`);
  }
  return date;
}
