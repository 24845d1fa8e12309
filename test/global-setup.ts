import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config/index.ts';
import { withDatabase } from '../src/db/index.ts';
import { stackDown, stackUp } from '../src/devtools/stack/index.ts';
import { migrateDatabase } from '../src/warehouse/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    connectUrl: string;
    /** The migrated test database (iot_hub_test), separate from the one `iot-hub start` uses. */
    databaseUrl: string;
    /** Server URL with any database name replaced, for tests that make their own databases. */
    serverUrl: string;
  }
}

let startedHere: string[] = [];

/**
 * Brings the local stack up once for the integration project (reusing a running one) and migrates the test
 * database. HUB_TEST_SKIP_STACK=1 skips Kafka and Connect for tests that need only PostgreSQL.
 */
export async function setup(project: TestProject): Promise<void> {
  const config = loadConfig();
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  if (!process.env.HUB_TEST_SKIP_STACK) {
    const up = await stackUp(config, log);
    startedHere = up.started;
    log(up.alreadyUp ? 'reusing the running stack' : `stack up in ${up.seconds.toFixed(1)} s`);
  }
  const databaseUrl = withDatabase(config.database.url, 'iot_hub_test');
  await migrateDatabase(databaseUrl, 'up', () => {});
  project.provide('kafkaBrokers', config.kafka.brokers);
  project.provide('connectUrl', config.connect.url);
  project.provide('databaseUrl', databaseUrl);
  project.provide('serverUrl', config.database.url);
}

/** Stops only what this run started, so a developer's running stack is left alone. */
export async function teardown(): Promise<void> {
  if (startedHere.length > 0 && !process.env.HUB_TEST_KEEP_STACK) await stackDown(() => {});
}
