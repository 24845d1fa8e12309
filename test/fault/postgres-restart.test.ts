import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createPool } from '../../src/db/index.ts';
import { createKafka, type OutgoingMessage } from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import { killHard, seedGroupAtEnd, startHubProcess, waitForGroupAtEnd } from '../support/ingest-ledger.ts';

// The fault the campaign found: a PostgreSQL restart killed the hub (exit code 1). Here the real server is
// restarted (pg_ctlcluster, as an operator or a failover would) while an `iot-hub start` process loads: the
// same process must keep running, report the outage on /readyz and recover, and end with the exact ledger.
const cluster = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql')[0] : undefined;
const canRestart = cluster !== undefined && process.getuid?.() === 0;

describe.runIf(canRestart)('PostgreSQL restart under load', () => {
  const sfx = randomUUID().slice(0, 8);
  const groupId = `test-pg-restart-${sfx}`;
  const config = loadConfig();
  const databaseUrl = inject('databaseUrl');
  // The test's own pool must survive the restart too: createPool has the error path.
  const db = createPool(databaseUrl, { max: 2, logger: createLogger('silent'), name: 'test-pg-restart' });
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'test-pg-restart' });
  const start: Record<string, number> = {};
  let hub: ReturnType<typeof startHubProcess> | null = null;

  beforeAll(async () => {
    Object.assign(start, await seedGroupAtEnd(kafka, db, groupId));
  });
  afterAll(async () => {
    if (hub) await killHard(hub);
    await db.end();
  });

  it('keeps the same hub process through a restart and ends with the exact ledger', async () => {
    const port = await freePort();
    hub = startHubProcess(databaseUrl, groupId, port);
    let exited: number | null = null;
    hub.once('exit', (code) => {
      exited = code ?? -1;
    });
    await until(async () => (await readyz(port)).status === 200, 60_000, 'the hub never became ready');

    const producer = kafka.producer();
    await producer.connect();
    const device = `pgr-${sfx}`;
    const sent = 600;
    const send = async (from: number, n: number) => {
      const batch: OutgoingMessage[] = [];
      for (let i = from; i < from + n; i++)
        batch.push({
          key: `${device}-${i % 8}`,
          value: JSON.stringify({
            schema: 'acme.telemetry',
            v: 2,
            deviceId: `${device}-${i % 8}`,
            ts: new Date(Date.now() - 120_000 + i).toISOString(),
            readings: [{ m: 'TEMP', v: 20, u: 'degC' }],
          }),
        });
      await producer.send('telemetry.acme', batch);
    };
    await send(0, 200);
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster!, 'main', 'restart'], {
      stdio: 'ignore',
    });
    await send(200, 200);
    // The outage is visible, then gone: /readyz answers 503 (postgres or ingest) or 200 again within a minute.
    await until(
      async () => (await readyz(port)).status === 200,
      60_000,
      'the hub did not become ready again',
    );
    await send(400, 200);
    await producer.disconnect();

    await waitForGroupAtEnd(kafka, db, groupId, 'telemetry.acme', 120_000);
    const { rows } = await db.query(
      'SELECT count(*)::int AS n FROM dw.fact_sensor_reading f JOIN dw.dim_device d USING (device_sk) WHERE d.device_nk LIKE $1',
      [`${device}-%`],
    );
    expect(rows[0].n).toBe(sent);
    expect(exited).toBeNull();
  }, 300_000);
});

async function readyz(port: number): Promise<{ status: number }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    await res.arrayBuffer();
    return { status: res.status };
  } catch {
    return { status: 0 };
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}
