// Ticket benchmark (docs/servicenow-tickets.md, "Benchmark"): the alert storm (5,000 alerts over 200 keys,
// every tenth key escalated midway) delivered to the ServiceNow emulator limited to 50 requests/s, through the
// real PostgreSQL (hub.alert) and Redis (bullmq). Reports incidents created, duplicates, lost, the alert →
// incident latency (p50/p99), and how well the delivery uses the allowed rate. The peer, measured in the same
// run, is the same delivery reacting to 429s only (pacing off: send until refused, then honour Retry-After),
// the way most clients handle rate limits. Writes bench/results/tickets.json.
//
//   node bench/tickets.ts [--keys 200] [--per-key 25] [--rate 50] [--no-peer]
//
// It uses its own database (iot_hub_bench_tickets, recreated) and Redis DB 12, never the hub's.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { type HubConfig, loadConfig } from '../src/config/index.ts';
import { createKnex, type Knex } from '../src/db/index.ts';
import { type ServiceNowEmulator, startServiceNowEmulator } from '../src/devtools/servicenow/index.ts';
import { startTicketDelivery } from '../src/itsm/index.ts';
import { raiseAlerts } from '../src/quality/index.ts';
import { recreateItsmDatabase } from '../test/support/itsm-database.ts';
import { buildStorm, checkStorm } from '../test/support/ticket-storm.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const keys = flag('keys', 200);
const perKey = flag('per-key', 25);
const rate = flag('rate', 50);
const withPeer = !args.includes('--no-peer');
const databaseName = 'iot_hub_bench_tickets';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/12';

const progress = (line: string) => process.stdout.write(`[tickets] ${line}\n`);

interface RunResult {
  strategy: string;
  seconds: number;
  raise_seconds: number;
  incidents_created: number;
  duplicates: number;
  lost: number;
  work_note_problems: number;
  alert_to_incident_latency_s: { p50: number; p99: number; max: number };
  requests: {
    sent: number;
    admitted: number;
    refused_429: number;
    span_s: number;
    admitted_per_s: number;
    sent_per_s: number;
  };
  rate_limit_utilisation: number;
  /** Admitted ÷ (limit × every 1-s window the run touched, partial first and last included); at most 1. */
  window_fill_all: number;
  /** The same over the full windows between the first and the last: the steady state. */
  window_fill_interior: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

async function run(strategy: 'paced' | 'reactive', url: string, base: HubConfig): Promise<RunResult> {
  const knex: Knex = createKnex(url, 20);
  await knex.raw('TRUNCATE hub.alert, hub.alert_ticket_lease');
  const sn: ServiceNowEmulator = await startServiceNowEmulator({ port: 0, rateLimit: { limit: rate } });
  const config: HubConfig = {
    ...base,
    database: { url, poolMax: 20 },
    redis: { url: redisUrl },
    servicenow: {
      url: sn.url,
      auth: { ...base.servicenow.auth, mode: 'basic', username: 'admin', password: 'admin' },
    },
  };
  const delivery = await startTicketDelivery(config, {
    logger: pino({ level: 'warn' }),
    knex,
    settings: {
      queueName: `bench-tickets-${randomUUID()}`,
      concurrency: 32,
      pacing: strategy === 'paced',
      requestTimeoutMs: 10_000,
      reconcileIntervalMs: 5_000,
      backoffMs: 200,
      backoffMaxMs: 5_000,
    },
  });
  const storm = buildStorm({ keys, perKey, escalateEvery: 10, prefix: `bench-${strategy}` });
  progress(
    `${strategy}: raising ${storm.events.length} alerts over ${keys} keys, emulator limited to ${rate} requests/s`,
  );
  const started = performance.now();
  // Requests before the storm (the ServiceNow health probe at start) are not part of the delivery span.
  const stormFrom = Date.now();
  for (let i = 0; i < storm.events.length; i += 250) await raiseAlerts(knex, storm.events.slice(i, i + 250));
  const raiseSeconds = (performance.now() - started) / 1000;
  progress(`${strategy}: raised in ${raiseSeconds.toFixed(1)} s`);
  let lastReport = 0;
  for (;;) {
    const { n } = (await knex('hub.alert')
      .whereIn('ticket_state', ['pending', 'sent'])
      .count({ n: '*' })
      .first()) as { n: string };
    const elapsed = (performance.now() - started) / 1000;
    if (Number(n) === 0) break;
    if (elapsed - lastReport >= 2) {
      lastReport = elapsed;
      const stats = sn.stats();
      progress(
        `${strategy}: ${elapsed.toFixed(1)} s  undelivered ${n}/${keys}  incidents ${sn.records('incident').length}  requests ${stats.total} (429: ${stats.byStatus['429'] ?? 0})`,
      );
    }
    if (elapsed > 900) throw new Error(`${strategy}: not delivered after 15 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  await delivery.stop();

  const check = checkStorm(sn, storm, perKey);
  for (const p of check.problems.slice(0, 5)) progress(`${strategy}: PROBLEM ${p}`);
  const { rows: latencies } = await knex.raw<{ rows: { s: number }[] }>(
    'SELECT extract(epoch FROM ticket_opened_at - ticket_requested_at)::float8 AS s FROM hub.alert WHERE ticket_opened_at IS NOT NULL ORDER BY 1',
  );
  const sorted = latencies.map((r) => r.s);
  const api = sn.requests().filter((r) => r.path.startsWith('/api/') && r.at >= stormFrom);
  const refused = api.filter((r) => r.status === 429).length;
  const firstAt = Math.min(...api.map((r) => r.at));
  const lastAt = Math.max(...api.map((r) => r.finishedAt ?? r.at));
  const span = (lastAt - firstAt) / 1000;
  const admitted = api.length - refused;
  // The emulator's windows are 1 s, aligned to the epoch; count admitted requests per window by arrival.
  const perWindow = new Map<number, number>();
  for (const r of api)
    if (r.status !== 429)
      perWindow.set(Math.floor(r.at / 1000), (perWindow.get(Math.floor(r.at / 1000)) ?? 0) + 1);
  const firstWindow = Math.floor(firstAt / 1000);
  const lastWindow = Math.floor(Math.max(...api.map((r) => r.at)) / 1000);
  const windows = lastWindow - firstWindow + 1;
  let interior = 0;
  for (let w = firstWindow + 1; w < lastWindow; w++) interior += perWindow.get(w) ?? 0;
  await sn.close();
  await knex.destroy();
  const result: RunResult = {
    strategy:
      strategy === 'paced'
        ? 'hub: proactive pacing from X-RateLimit-*, Retry-After on 429'
        : 'peer: reactive, send until 429 then honour Retry-After',
    seconds: round(seconds, 2),
    raise_seconds: round(raiseSeconds, 2),
    incidents_created: check.incidents,
    duplicates: check.duplicates,
    lost: check.lost,
    work_note_problems: check.problems.length,
    alert_to_incident_latency_s: {
      p50: round(quantile(sorted, 0.5)),
      p99: round(quantile(sorted, 0.99)),
      max: round(sorted.at(-1) ?? Number.NaN),
    },
    requests: {
      sent: api.length,
      admitted,
      refused_429: refused,
      span_s: round(span, 2),
      admitted_per_s: round(admitted / span, 2),
      sent_per_s: round(api.length / span, 2),
    },
    rate_limit_utilisation: round(admitted / span / rate),
    window_fill_all: round(admitted / (windows * rate)),
    window_fill_interior: windows > 2 ? round(interior / ((windows - 2) * rate)) : Number.NaN,
  };
  progress(
    `${strategy}: ${result.incidents_created} incidents, ${result.duplicates} duplicates, ${result.lost} lost, latency p50 ${result.alert_to_incident_latency_s.p50} s p99 ${result.alert_to_incident_latency_s.p99} s, utilisation ${result.rate_limit_utilisation} (${admitted} admitted, ${refused} refused in ${span.toFixed(1)} s; windows filled ${result.window_fill_all} overall, ${result.window_fill_interior} between the first and last)`,
  );
  return result;
}

const base = loadConfig();
const url = await recreateItsmDatabase(base.database.url, databaseName);

const loadavg = os.loadavg().map((n) => round(n, 2));
const hub = await run('paced', url, base);
const peer = withPeer ? await run('reactive', url, base) : null;

const out = {
  benchmark: 'tickets',
  date: new Date().toISOString(),
  machine: {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg_at_start: loadavg,
  },
  workload: {
    alerts: keys * perKey,
    keys,
    per_key: perKey,
    escalated_keys: Math.ceil(keys / 10),
    rate_limit_per_s: rate,
    servicenow: 'src/devtools/servicenow emulator, 1-second fixed windows, Basic auth',
    delivery: 'startTicketDelivery, incident mode, concurrency 32, PostgreSQL hub.alert + bullmq on Redis',
    latency: 'hub.alert.ticket_opened_at − ticket_requested_at (first raise committed → incident confirmed)',
    utilisation:
      'rate_limit_utilisation: admitted (non-429) API requests per second over the delivery span (first arrival to last answer) ÷ the allowed rate; it can exceed 1 because the emulator counts in fixed 1-s windows and a run that starts and ends mid-window gets two partial windows in full. window_fill_all divides by the allowance of every window touched (at most 1); window_fill_interior only over the full windows in between.',
  },
  incidents_created: hub.incidents_created,
  duplicates: hub.duplicates,
  lost: hub.lost,
  alert_to_incident_latency_s: hub.alert_to_incident_latency_s,
  ratios: {
    rate_limit_utilisation: hub.rate_limit_utilisation,
    window_fill_all: hub.window_fill_all,
    window_fill_interior: hub.window_fill_interior,
    ...(peer
      ? {
          peer_rate_limit_utilisation: peer.rate_limit_utilisation,
          speedup_vs_peer: round(peer.seconds / hub.seconds, 2),
        }
      : {}),
  },
  goals: { duplicates: 0, lost: 0, rate_limit_utilisation_min: 0.9 },
  met:
    hub.duplicates === 0 &&
    hub.lost === 0 &&
    hub.rate_limit_utilisation >= 0.9 &&
    hub.work_note_problems === 0,
  hub,
  peer,
};
mkdirSync(`${root}bench/results`, { recursive: true });
writeFileSync(`${root}bench/results/tickets.json`, `${JSON.stringify(out, null, 2)}\n`);
progress(`wrote bench/results/tickets.json (goals ${out.met ? 'met' : 'NOT met'})`);
process.exit(0);
