import pg from 'pg';
import { withDatabase } from '../../src/db/index.ts';
import { migrateDatabase } from '../../src/warehouse/index.ts';

/**
 * The alert and ticket tests' own database, dropped and migrated afresh, so they never share rows with other
 * tests or a running hub. Returns its URL.
 */
export async function recreateItsmDatabase(serverUrl: string, name = 'iot_hub_test_itsm'): Promise<string> {
  const url = withDatabase(serverUrl, name);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await migrateDatabase(url, 'up');
  return url;
}
