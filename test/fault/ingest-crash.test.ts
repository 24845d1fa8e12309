import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { type SimulationResult, simulate } from '../../src/devtools/simulator/index.ts';
import { createKafka } from '../../src/kafka/index.ts';
import {
  killHard,
  readLedger,
  seedGroupAtEnd,
  startHubProcess,
  waitForLedger,
} from '../support/ingest-ledger.ts';

// Crash faults against the real broker and database: the ledger after a kill -9 must be exactly the ledger of
// a clean run: fact rows = unique valid readings, dead letters = invalid records, nothing lost or doubled.
describe('ingest under crashes', () => {
  const databaseUrl = inject('databaseUrl');
  const kafka = createKafka({ brokers: inject('kafkaBrokers'), clientId: 'test-crash' });
  const db = new pg.Pool({ connectionString: databaseUrl });
  const children: ChildProcess[] = [];
  const faults = {
    malformed: 0.01,
    duplicate: 0.02,
    out_of_order: 0.01,
    late: 0.01,
    future: 0.005,
    unknown_device: 0.02,
    spike: 0.01,
    gap: 0.01,
  };

  // Each test stops its processes: a hub left running would consume the next test's records in its own group.
  afterEach(async () => {
    await Promise.all(children.splice(0).map(killHard));
  });
  afterAll(async () => {
    await db.end();
  });

  async function producedRun(prefix: string, groupId: string) {
    const start = await seedGroupAtEnd(kafka, db, groupId);
    const run: SimulationResult = await simulate({
      seed: prefix,
      idPrefix: prefix,
      devices: 60,
      durationMs: 12 * 3600_000,
      intervalMs: 60_000,
      faults,
      databaseUrl,
      kafka: { brokers: inject('kafkaBrokers') },
      seedMdm: false,
    });
    return { start, ledger: run.ledger };
  }

  function spawnHub(groupId: string): ChildProcess {
    const child = startHubProcess(databaseUrl, groupId);
    children.push(child);
    return child;
  }

  /** Waits until some, but not all, of the expected facts are in. */
  async function waitUntilMidway(
    prefix: string,
    start: Record<string, number>,
    total: number,
  ): Promise<number> {
    for (;;) {
      const { facts } = await readLedger(db, prefix, start);
      if (facts > total * 0.05) return facts;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('kill -9 in the middle of loading, then a restart: the exact ledger', async () => {
    const prefix = `k9-${randomUUID().slice(0, 6)}-`;
    const groupId = `test-crash-${prefix}`;
    const { start, ledger } = await producedRun(prefix, groupId);
    expect(ledger.invalid_messages).toBeGreaterThan(0);
    expect(ledger.duplicate_readings).toBeGreaterThan(0);
    expect(ledger.unknown_device_readings).toBeGreaterThan(0);

    const first = spawnHub(groupId);
    const atKill = await waitUntilMidway(prefix, start, ledger.unique_valid_readings);
    await killHard(first);
    const afterKill = await readLedger(db, prefix, start);
    expect(atKill).toBeLessThan(ledger.unique_valid_readings);
    expect(afterKill.facts).toBeLessThan(ledger.unique_valid_readings);

    spawnHub(groupId);
    const final = await waitForLedger(db, prefix, start, {
      facts: ledger.unique_valid_readings,
      deadLetters: ledger.invalid_messages,
    });
    expect(final).toEqual({ facts: ledger.unique_valid_readings, deadLetters: ledger.invalid_messages });
  });

  it('two hub processes share the partitions; one killed mid-run: the exact ledger', async () => {
    const prefix = `two-${randomUUID().slice(0, 6)}-`;
    const groupId = `test-crash-${prefix}`;
    const { start, ledger } = await producedRun(prefix, groupId);

    const a = spawnHub(groupId);
    spawnHub(groupId);
    await waitUntilMidway(prefix, start, ledger.unique_valid_readings);
    await killHard(a);
    expect((await readLedger(db, prefix, start)).facts).toBeLessThan(ledger.unique_valid_readings);

    const final = await waitForLedger(db, prefix, start, {
      facts: ledger.unique_valid_readings,
      deadLetters: ledger.invalid_messages,
    });
    expect(final).toEqual({ facts: ledger.unique_valid_readings, deadLetters: ledger.invalid_messages });
  });
});
