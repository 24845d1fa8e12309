import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { contractSources, exportContractsCommand } from '../../src/cli/contracts.ts';
import {
  contractDrift,
  exportContracts,
  loadContracts,
  localServer,
  readCatalog,
} from '../../src/contracts/index.ts';
import { createPool, withDatabase } from '../../src/db/index.ts';
import { migrateDatabase } from '../../src/warehouse/index.ts';

// The CI check of docs/data-products.md, "When a migration changes a table": the committed contracts are what
// `contracts export` derives from the migrations (so a migration that changes a table fails here until its contract
// is exported again), and a changed table is reported with its breaking changes named.

const databaseName = 'iot_hub_test_contracts_drift';
let changedUrl: string;
const workDir = mkdtempSync(path.join(tmpdir(), 'contracts-drift-'));

async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(inject('serverUrl'), 'postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end());
}

beforeAll(async () => {
  await dropDatabase(databaseName);
  changedUrl = withDatabase(inject('serverUrl'), databaseName);
  await migrateDatabase(changedUrl, 'up');
});

afterAll(async () => {
  await dropDatabase(databaseName);
  rmSync(workDir, { recursive: true, force: true });
});

describe('contracts and migrations', () => {
  it('every committed contract is what the export derives from the migrated schema', async () => {
    const db = createPool(inject('databaseUrl'), { max: 2 });
    try {
      const contracts = loadContracts();
      for (const { contract } of contracts)
        for (const object of contract.schema) {
          const [table] = await readCatalog(db, 'dw', [object.name]);
          expect(contractDrift(object, table), contract.id).toEqual([]);
        }
      const results = await exportContracts({
        db,
        dir: 'contracts',
        tables: contracts.map((c) => c.contract.id),
        sources: contractSources(),
        server: localServer(inject('databaseUrl')),
        check: true,
      });
      const stale = results.filter((r) => r.changed).map((r) => r.id);
      expect(stale, 'contracts differ from the migrations: run iot-hub contracts export').toEqual([]);
    } finally {
      await db.end();
    }
  });

  it('a migration that changes a table fails the check, naming its breaking changes', async () => {
    const admin = new pg.Client({ connectionString: changedUrl });
    await admin.connect();
    try {
      // What a careless migration could do to dw.dim_cmdb_ci.
      await admin.query(`
        ALTER TABLE dw.dim_cmdb_ci DROP COLUMN asset_tag;
        ALTER TABLE dw.dim_cmdb_ci ALTER COLUMN serial_number TYPE varchar(64);
        ALTER TABLE dw.dim_cmdb_ci ALTER COLUMN ci_name SET NOT NULL;
        ALTER TABLE dw.dim_cmdb_ci DROP CONSTRAINT dim_cmdb_ci_pkey, ADD PRIMARY KEY (cmdb_ci_sk, valid_from);
        ALTER TABLE dw.dim_cmdb_ci ADD COLUMN ci_owner text;`);
    } finally {
      await admin.end();
    }
    cpSync('contracts', workDir, { recursive: true });
    const lines: string[] = [];
    const code = await exportContractsCommand(
      { databaseUrl: changedUrl, dir: workDir, tables: [], check: true },
      (l) => lines.push(l),
    );
    expect(code).toBe(1);
    // In the contract's column order, then the columns it lacks.
    expect(lines.filter((l) => l.startsWith('  '))).toEqual([
      '  BREAKING nullability tightened: dim_cmdb_ci.ci_name: ci_name is NOT NULL, the contract says it is optional',
      '  BREAKING type changed: dim_cmdb_ci.serial_number: type is character varying(64), the contract says text',
      '  BREAKING column removed: dim_cmdb_ci.asset_tag: column asset_tag is in the contract but not in the table',
      '  BREAKING key changed: dim_cmdb_ci.valid_from: primary key position is 2, the contract says none',
      '  change   column added: dim_cmdb_ci.ci_owner: column ci_owner (text) is not in the contract',
    ]);
    expect(lines).toContain(
      '1 contract(s) differ from the migrations: run iot-hub contracts export and review the diff',
    );
    // --check wrote nothing; the export itself rewrites the schema section and keeps the meaning.
    const before = readFileSync(path.join(workDir, 'dim_cmdb_ci.odcs.yaml'), 'utf8');
    expect(before).toBe(readFileSync('contracts/dim_cmdb_ci.odcs.yaml', 'utf8'));
    expect(
      await exportContractsCommand({ databaseUrl: changedUrl, dir: workDir, tables: [] }, () => {}),
    ).toBe(0);
    const [after] = loadContracts(workDir).filter((c) => c.contract.id === 'dim_cmdb_ci');
    const properties = after!.contract.schema[0]!.properties;
    expect(properties.find((p) => p.name === 'asset_tag')).toBeUndefined();
    expect(properties.find((p) => p.name === 'serial_number')).toMatchObject({
      physicalType: 'character varying(64)',
      classification: 'CONFIDENTIAL',
    });
    expect(after!.contract.team?.name).toBe('itsm-cmdb');
  });
});
