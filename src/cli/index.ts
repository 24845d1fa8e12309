import { Command } from 'commander';
import { silenceKafkajsTimeoutWarning } from '../kafka/index.ts';
import { registerAlertsCommand } from './alerts.ts';
import { registerBackfillCommand } from './backfill.ts';
import { registerBenchCommand } from './bench.ts';
import { registerCmdbCommand } from './cmdb.ts';
import { registerConnectorsCommand } from './connectors.ts';
import { registerContractsCommand } from './contracts.ts';
import { registerDemoCommand } from './demo.ts';
import { registerDlqCommand } from './dlq.ts';
import { registerGraphqlCommand } from './graphql.ts';
import { registerMappingsCommand } from './mappings.ts';
import { registerMigrateCommand } from './migrate.ts';
import { registerQualityCommand } from './quality.ts';
import { registerReconcileCommand } from './reconcile.ts';
import { registerServicenowCommand } from './servicenow.ts';
import { registerSimulateCommand } from './simulate.ts';
import { registerStackCommand } from './stack.ts';
import { registerStartCommand } from './start.ts';
import { registerTicketsCommand } from './tickets.ts';
import { registerTokenCommand } from './token.ts';

const program = new Command('iot-hub')
  .description(
    'IoT Integration Hub: telemetry enrichment, CDC, warehouse, data quality, ServiceNow and GraphQL.',
  )
  .option('-c, --config <file>', 'config file (default: $HUB_CONFIG, then ./iot-hub.yaml)')
  .showHelpAfterError();

// Each command lives in its own file and registers itself here.
registerStackCommand(program);
registerConnectorsCommand(program);
registerMigrateCommand(program);
registerStartCommand(program);
registerDemoCommand(program);
registerBenchCommand(program);
registerDlqCommand(program);
registerBackfillCommand(program);
registerTicketsCommand(program);
registerAlertsCommand(program);
registerMappingsCommand(program);
registerReconcileCommand(program);
registerServicenowCommand(program);
registerCmdbCommand(program);
registerSimulateCommand(program);
registerQualityCommand(program);
registerContractsCommand(program);
registerGraphqlCommand(program);
registerTokenCommand(program);

// The CLI is the process: its one process-wide setting is dropping kafkajs's known-harmless timer warning.
silenceKafkajsTimeoutWarning();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`iot-hub: ${(err as Error).message}`);
  process.exitCode = process.exitCode || 1;
}
