// A hub process running only the CDC stage, for tests that kill it mid-apply:
// node test/support/cdc-child.ts <warehouse url> <topic prefix> <group>. Prints "ready" once started.
import { startCdc } from '../../src/cdc/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { silenceKafkajsTimeoutWarning } from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/index.ts';

const [databaseUrl, topicPrefix, groupId] = process.argv.slice(2);
silenceKafkajsTimeoutWarning();
const config = loadConfig();
config.database.url = databaseUrl!;
const cdc = await startCdc(config, { logger: createLogger('warn'), topicPrefix, groupId });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  cdc.stop().then(() => process.exit(0));
});
