import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool } from '../../src/db/index.ts';
import {
  type ConsumerHealth,
  createKafka,
  type HubConsumer,
  startTrackedConsumer,
} from '../../src/kafka/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { TcpFaultProxy } from '../support/tcp-fault-proxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The tracked consumer behind a TCP fault proxy to the shared PostgreSQL: connections are reset, backends are
// terminated and the database is unreachable for a while, all while records are produced. The scratch table
// must end with every record exactly once, and the process must still be running (an unhandled pg 'error'
// event would end the test run). The PostgreSQL server itself is never restarted: others share it.
describe('tracked consumer through database faults', () => {
  const id = randomUUID().slice(0, 8);
  const topic = `test.dbres.${id}`;
  const groupId = `test-dbres-${id}`;
  const appName = `test-dbres-${id}`;
  const table = `public.test_dbres_${id}`;
  const total = 3000; // 120 sends of 25, one every ~100 ms
  const databaseUrl = inject('databaseUrl');
  const kafka = createKafka({ brokers: inject('kafkaBrokers'), clientId: `test-dbres-${id}` });
  const direct = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(
    'info',
    'test-dbres',
    new Writable({
      write(chunk, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        done();
      },
    }),
  );
  let proxy: TcpFaultProxy;
  let pool: pg.Pool;
  let consumer: HubConsumer | undefined;

  beforeAll(async () => {
    const target = new URL(databaseUrl);
    proxy = await TcpFaultProxy.start({
      targetHost: target.hostname,
      targetPort: Number(target.port || 5432),
    });
    const proxied = new URL(databaseUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    proxied.searchParams.set('application_name', appName);
    pool = createPool(proxied.toString(), { max: 4, name: appName, logger, connectionTimeoutMs: 2000 });
    await direct.query(
      `CREATE TABLE ${table} (id bigserial PRIMARY KEY, topic text NOT NULL, part int NOT NULL, "offset" bigint NOT NULL)`,
    );
    const admin = kafka.admin();
    await admin.connect();
    await admin.ensureTopics([{ topic, partitions: 3 }]);
    await admin.disconnect();
  });

  afterAll(async () => {
    await consumer?.stop();
    await consumer?.disconnect();
    await pool?.end();
    await proxy?.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
    await direct.query(`DROP TABLE IF EXISTS ${table}`);
    await direct.query('DELETE FROM hub.consumer_offsets WHERE consumer_group = $1', [groupId]);
    await direct.end();
  });

  it('keeps every record exactly once through resets, terminated backends and an outage', async () => {
    consumer = await startTrackedConsumer({
      kafka,
      pool,
      groupId,
      topics: [topic],
      fromBeginning: true,
      partitionsConcurrently: 3,
      logger,
      retry: { initialMs: 100, maxMs: 1000 },
      async handle(batch, client) {
        await client.query(
          `INSERT INTO ${table} (topic, part, "offset") SELECT $1, $2, unnest($3::bigint[])`,
          [batch.topic, batch.partition, batch.messages.map((m) => m.offset)],
        );
      },
    });
    const states = new Set<ConsumerHealth['state']>();
    const sampler = setInterval(() => states.add(consumer!.health().state), 10);

    const producer = kafka.producer();
    await producer.connect();
    // Records keep arriving for ~12 s, through every fault below, so batches are in flight when they hit.
    let produced = 0;
    const produce = (async () => {
      while (produced < total) {
        const n = Math.min(25, total - produced);
        await producer.send(
          topic,
          Array.from({ length: n }, (_, i) => ({ value: `r${produced + i}`, partition: (produced + i) % 3 })),
        );
        produced += n;
        await sleep(90);
      }
    })();
    const consumed = async (atLeast: number) => {
      for (;;) {
        const { rows } = await direct.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
        if (rows[0]!.n >= atLeast) return;
        await sleep(50);
      }
    };
    await consumed(1);

    // (a) resets of every open connection, (b) backends terminated by the server, (c) an outage: new connections
    // refused for 2 s, so batches must wait it out, (d) random resets at 0.05/s per connection.
    let cuts = 0;
    let terminated = 0;
    for (let i = 0; i < 3; i++) {
      await sleep(600);
      cuts += proxy.cutAll();
      await sleep(600);
      const { rows } = await direct.query<{ ok: boolean }>(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [appName],
      );
      terminated += rows.filter((r) => r.ok).length;
    }
    proxy.pause();
    cuts += proxy.cutAll();
    await sleep(2000);
    proxy.resume();
    proxy.setResetPerSecond(0.05);
    await produce;
    await producer.disconnect();
    expect(produced).toBe(total);

    // Positive signal: the stored offsets reach the end of every partition.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { rows } = await direct.query<{ n: number }>(
        'SELECT coalesce(sum(next_offset), 0)::int AS n FROM hub.consumer_offsets WHERE consumer_group = $1',
        [groupId],
      );
      if (rows[0]!.n >= total) break;
      if (Date.now() > deadline) throw new Error(`only ${rows[0]!.n} of ${total} offsets committed in 90 s`);
      await sleep(200);
    }
    proxy.setResetPerSecond(0);
    clearInterval(sampler);

    const { rows } = await direct.query<{ n: number; distinct_n: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (topic, part, "offset"))::int AS distinct_n FROM ${table}`,
    );
    expect(rows[0]).toEqual({ n: total, distinct_n: total });
    expect(cuts).toBeGreaterThan(0);
    expect(terminated).toBeGreaterThan(0);
    expect(proxy.counters.refused).toBeGreaterThan(0);
    expect(states.has('retrying')).toBe(true);
    // Retrying ends with the next committed batch; the last batch committed, so the consumer is running.
    expect(consumer.health().state).toBe('running');

    // An outage is one warning and one recovery line, not a line per failed attempt.
    const unreachable = lines.filter((l) => String(l.msg).startsWith('database unreachable; batch of'));
    const recovered = lines.filter((l) => String(l.msg).startsWith('database reachable again'));
    expect(unreachable.length).toBeGreaterThan(0);
    expect(recovered.length).toBeGreaterThan(0);
    expect(unreachable[0]).toMatchObject({ level: 'warn', component: 'consumer', topic });
    const attempts = recovered.reduce((sum, l) => sum + Number(l.occurrences), 0);
    expect(attempts).toBeGreaterThan(unreachable.length);
    expect(unreachable.length).toBeLessThanOrEqual(cuts + terminated + 10);
    expect(lines.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });
});
