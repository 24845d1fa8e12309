// Mapping benchmark: maps payloads with the compiled hub mapping, the same mapping written in JSONata, and
// the same mapping written by hand in TypeScript, in one run, interleaved round by round so load from other
// processes hits all three alike. Two workloads: acme.telemetry v2 (mappings/telemetry-acme-v2.yaml, 3
// readings per payload) and nested gateway uploads (mappings/telemetry-gateway-v1.yaml, readings two arrays
// deep: 3 sensors × 4 readings, $parent and a field reading another field). Reports medians of the rounds
// and writes bench/results/mapping.json.
//
//   node bench/mapping.ts [--payloads 1000000] [--rounds 5] [--jsonata-payloads 200000]
//                         [--gateway-payloads 250000] [--gateway-jsonata-payloads 20000]
//
// --payloads is per round for the hub and hand-written code, --jsonata-payloads per round for JSONata, which
// is ~100× slower, so its default keeps the acme run near two minutes while still mapping 1,000,000
// payloads in total (5 × 200,000). The gateway options are the same for the gateway workload.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import jsonata from 'jsonata';
import { loadMappingFile } from '../src/mapping/index.ts';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));

const args = parseArgs(process.argv.slice(2));
const payloadsPerRound = args.payloads ?? 1_000_000;
const rounds = args.rounds ?? 5;
const jsonataPerRound = args['jsonata-payloads'] ?? 200_000;
const gatewayPerRound = args['gateway-payloads'] ?? 250_000;
const gatewayJsonataPerRound = args['gateway-jsonata-payloads'] ?? 20_000;
const DISTINCT = 20_000;

type Row = Record<string, unknown>;
type Payload = { schema: string; v: number; deviceId: string; ts: string; readings: Reading[] };
type Reading = { m: string; v: number | string; u: string; q?: string };

// --- the workload: what the device simulator sends (src/devtools/simulator/vendor-acme.ts) ---------------

const ACME = [
  { m: 'TEMP', u: 'degF', base: 70, spread: 30 },
  { m: 'VIB', u: 'in/s', base: 0.1, spread: 0.2 },
  { m: 'PRESS', u: 'psi', base: 14.7, spread: 5 },
  { m: 'HUM', u: '%', base: 45, spread: 20 },
  { m: 'PWR', u: 'kW', base: 1.5, spread: 3 },
  { m: 'BATT', u: '%', base: 80, spread: 20 },
];
const QUALITIES = ['good', 'good', 'good', 'uncertain', 'bad'];

function makePayloads(n: number): Payload[] {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const start = Date.UTC(2026, 7, 20);
  return Array.from({ length: n }, (_, i) => ({
    schema: 'acme.telemetry',
    v: 2,
    deviceId: `dev-${String(i % 500).padStart(5, '0')}`,
    ts: new Date(start + i * 1000 + Math.floor(random() * 1000)).toISOString(),
    readings: [0, 1, 2].map((k) => {
      const spec = ACME[(i + k * 2) % ACME.length]!;
      return {
        m: spec.m,
        v: Math.round((spec.base + (random() - 0.5) * spec.spread) * 100) / 100,
        u: spec.u,
        q: QUALITIES[Math.floor(random() * QUALITIES.length)]!,
      };
    }),
  }));
}

// --- the same mapping three ways ------------------------------------------------------------------------

const hub = loadMappingFile(`${root}mappings/telemetry-acme-v2.yaml`);

const METRIC: Record<string, string> = {
  TEMP: 'temperature',
  VIB: 'vibration',
  PRESS: 'pressure',
  HUM: 'humidity',
  PWR: 'power',
  BATT: 'battery',
  ENERGY: 'energy',
  FLOW: 'flow',
  CURR: 'current',
  VOLT: 'voltage',
  RPM: 'rotational_speed',
};
const CANONICAL: Record<string, string> = {
  temperature: 'Cel',
  vibration: 'mm/s',
  pressure: 'kPa',
  humidity: '%',
  power: 'kW',
  battery: '%',
  energy: 'kW.h',
  flow: 'm3/h',
  current: 'A',
  voltage: 'V',
  rotational_speed: '/min',
};
const ALIASES: Record<string, string> = { degF: '[degF]', psi: '[psi]', 'in/s': '[in_i]/s', degC: 'Cel' };
const QUALITY: Record<string, number> = { good: 1, uncertain: 3, bad: 4 };

// The peers get the unit table the hub derives: each pair resolved once through UCUM as scale and offset.
const ucum = (
  require('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } }
).UcumLhcUtils.getInstance();
const CONVERSIONS = conversionTable(ACME.map((spec) => [spec.u, CANONICAL[METRIC[spec.m]!]!]));

/** `from|to` → [scale, offset], for vendor spellings (through ALIASES) to canonical units. */
function conversionTable(pairs: Array<[string, string]>): Record<string, [number, number]> {
  const table: Record<string, [number, number]> = {};
  for (const [unit, to] of pairs) {
    const from = ALIASES[unit] ?? unit;
    const at0 = ucum.convertUnitTo(from, 0, to).toVal!;
    const atMillion = ucum.convertUnitTo(from, 1e6, to).toVal!;
    table[`${unit}|${to}`] = [(atMillion - at0) / 1e6, at0];
  }
  return table;
}
interface UcumUtils {
  convertUnitTo(from: string, value: number, to: string): { toVal: number | null };
}

/** What an engineer would write by hand for this mapping: plain loops, object lookups, Date for the time. */
function handwritten(p: Payload): Row[] {
  const date = new Date(p.ts);
  if (Number.isNaN(date.getTime())) throw new Error(`bad ts ${p.ts}`);
  const ts = date.toISOString();
  const rows: Row[] = [];
  for (const r of p.readings) {
    const metric = METRIC[r.m];
    if (metric === undefined) continue;
    const unit = CANONICAL[metric]!;
    const c = CONVERSIONS[`${r.u}|${unit}`];
    const v = typeof r.v === 'number' ? r.v : Number(r.v);
    rows.push({
      device_id: p.deviceId,
      metric,
      ts,
      value: c === undefined || Number.isNaN(v) ? null : v * c[0] + c[1],
      unit,
      quality: c === undefined || Number.isNaN(v) ? 4 : (QUALITY[r.q ?? ''] ?? 2),
      mapping_id: 'telemetry-acme',
      mapping_version: 2,
    });
  }
  return rows;
}

// The same in JSONata, compiled once; lookup tables are bound, as a JSONata user would do.
const jsonataExpression = jsonata(`
  (
    $ts := $fromMillis($toMillis(ts));
    $device := deviceId;
    [readings.(
      $metric := $lookup($metrics, m);
      $unit := $lookup($canonical, $metric);
      $c := $lookup($conversions, u & '|' & $unit);
      $v := $number(v);
      $q := $lookup($quality, q);
      $metric ? {
        "device_id": $device,
        "metric": $metric,
        "ts": $ts,
        "value": $v * $c[0] + $c[1],
        "unit": $unit,
        "quality": $exists($q) ? $q : 2,
        "mapping_id": "telemetry-acme",
        "mapping_version": 2
      }
    )]
  )`);
const jsonataBindings = { metrics: METRIC, canonical: CANONICAL, conversions: CONVERSIONS, quality: QUALITY };

// --- the nested gateway workload: readings two arrays deep (mappings/telemetry-gateway-v1.yaml) --------

type GatewayPayload = {
  gateway: string;
  sent_at: string;
  sensors: Array<{ id: string; type: string; unit: string; readings: GatewayReading[] }>;
};
type GatewayReading = { t: string; v: number | null; status?: string };

const GATEWAY_SENSORS = [
  { type: 'temperature', unit: 'degC', base: 21, spread: 4 },
  { type: 'pressure', unit: 'bar', base: 1.2, spread: 0.4 },
  { type: 'vibration', unit: 'mm/s', base: 2.5, spread: 2 },
];
const GATEWAY_CONVERSIONS = conversionTable(GATEWAY_SENSORS.map((s) => [s.unit, CANONICAL[s.type]!]));

function makeGatewayPayloads(n: number): GatewayPayload[] {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const start = Date.UTC(2026, 7, 20);
  return Array.from({ length: n }, (_, i) => ({
    gateway: `gw-${i % 40}`,
    sent_at: new Date(start + i * 60_000).toISOString(),
    sensors: GATEWAY_SENSORS.map((spec, k) => ({
      id: `${spec.type.slice(0, 2).toUpperCase()}-${(i % 200) * 3 + k}`,
      type: spec.type,
      unit: spec.unit,
      readings: [0, 1, 2, 3].map((j) => {
        const roll = random();
        return {
          t: new Date(start + i * 60_000 + j * 15_000).toISOString(),
          v: roll < 0.02 ? null : Math.round((spec.base + (random() - 0.5) * spec.spread) * 1000) / 1000,
          ...(roll > 0.95 ? { status: 'bad' } : {}),
        };
      }),
    })),
  }));
}

const gatewayHub = loadMappingFile(`${root}mappings/telemetry-gateway-v1.yaml`);

/** The gateway mapping by hand: two loops, the sensor in a variable, quality from the converted value. */
function handwrittenGateway(p: GatewayPayload): Row[] {
  const rows: Row[] = [];
  for (const sensor of p.sensors) {
    const metric = sensor.type;
    const unit = CANONICAL[metric];
    if (unit === undefined) continue;
    const c = GATEWAY_CONVERSIONS[`${sensor.unit}|${unit}`]!;
    for (const r of sensor.readings) {
      const date = new Date(r.t);
      if (Number.isNaN(date.getTime())) throw new Error(`bad t ${r.t}`);
      const value = r.v === null ? null : r.v * c[0] + c[1];
      rows.push({
        device_id: sensor.id,
        metric,
        ts: date.toISOString(),
        value,
        unit,
        quality: r.status === 'bad' ? 4 : value === null ? 9 : 1,
        mapping_id: 'telemetry-gateway',
        mapping_version: 1,
      });
    }
  }
  return rows;
}

const gatewayJsonata = jsonata(`
  [sensors.(
    $sensor := $;
    $metric := type;
    $unit := $lookup($canonical, $metric);
    $c := $lookup($conversions, unit & '|' & $unit);
    readings.(
      $value := v = null ? null : v * $c[0] + $c[1];
      {
        "device_id": $sensor.id,
        "metric": $metric,
        "ts": $fromMillis($toMillis(t)),
        "value": $value,
        "unit": $unit,
        "quality": status = "bad" ? 4 : ($value = null ? 9 : 1),
        "mapping_id": "telemetry-gateway",
        "mapping_version": 1
      }
    )
  )]`);

// --- measuring ------------------------------------------------------------------------------------------

type Engine = 'hub' | 'jsonata' | 'handwritten';

/** One mapping three ways, over a pool of distinct payloads. */
interface Workload<P> {
  name: string;
  pool: P[];
  rowsPerPayload: number;
  perRound: number;
  jsonataPerRound: number;
  hub: (payload: P) => Row[];
  handwritten: (payload: P) => Row[];
  jsonata: (payload: P) => Promise<Row[]>;
}

const sink = { rows: 0, value: 0 };

function runSync<P>(pool: P[], n: number, map: (payload: P) => Row[]): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const rows = map(pool[i % pool.length]!);
    sink.rows += rows.length;
    sink.value += (rows[0]?.value as number) ?? 0;
  }
  return performance.now() - t0;
}

async function runJsonata<P>(w: Workload<P>, n: number, progress: (done: number) => void): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const rows = await w.jsonata(w.pool[i % w.pool.length]!);
    sink.rows += rows.length;
    sink.value += (rows[0]?.value as number) ?? 0;
    if ((i + 1) % 10_000 === 0) progress(i + 1);
  }
  return performance.now() - t0;
}

async function checkSameOutput<P>(w: Workload<P>, mapping: typeof hub): Promise<void> {
  for (const payload of w.pool.slice(0, 2000)) {
    const fromHub = mapping.map(payload);
    if (fromHub.deadLetter || fromHub.errors.length)
      throw new Error(`${w.name}: hub reported ${fromHub.errors[0]?.message}`);
    const peers = { handwritten: w.handwritten(payload), jsonata: await w.jsonata(payload) };
    for (const [name, rows] of Object.entries(peers)) {
      if (!sameRows(fromHub.rows, rows)) {
        throw new Error(
          `${w.name}: ${name} differs from the hub on ${JSON.stringify(payload)}:\n${JSON.stringify(fromHub.rows)}\n${JSON.stringify(rows)}`,
        );
      }
    }
  }
}

function sameRows(a: Row[], b: Row[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((row, i) => {
    const other = b[i]!;
    const { value: va, ...restA } = row;
    const { value: vb, ...restB } = other;
    const sameValue =
      va === null || vb === null ? va === vb : Math.abs((va as number) - (vb as number)) < 1e-9;
    return isDeepStrictEqual(restA, restB) && sameValue;
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const perSecond = (n: number, ms: number) => (n / ms) * 1000;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

// On a terminal, progress rewrites one line; in a log, it is a line every 10,000 JSONata payloads.
const tty = process.stdout.isTTY === true;
const log = (line: string) => process.stdout.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
const progress = (line: string) => process.stdout.write(tty ? `\r\x1b[K${line}` : `${line}\n`);

/** Rounds of hub, hand-written and JSONata, interleaved; medians and ratios. */
async function measure<P>(w: Workload<P>) {
  // Warm-up, so every engine is measured after its JIT settles.
  runSync(w.pool, Math.min(100_000, w.perRound), w.hub);
  runSync(w.pool, Math.min(100_000, w.perRound), w.handwritten);
  await runJsonata(w, Math.min(5_000, w.jsonataPerRound), () => {});
  const rates: Record<Engine, number[]> = { hub: [], jsonata: [], handwritten: [] };
  for (let r = 1; r <= rounds; r++) {
    rates.hub.push(perSecond(w.perRound, runSync(w.pool, w.perRound, w.hub)));
    rates.handwritten.push(perSecond(w.perRound, runSync(w.pool, w.perRound, w.handwritten)));
    const jsonataMs = await runJsonata(w, w.jsonataPerRound, (done) =>
      progress(`  ${w.name} round ${r}: JSONata ${fmt(done)}/${fmt(w.jsonataPerRound)}`),
    );
    rates.jsonata.push(perSecond(w.jsonataPerRound, jsonataMs));
    log(
      `${w.name} round ${r}/${rounds}: hub ${fmt(rates.hub.at(-1)!)}/s, hand-written ${fmt(rates.handwritten.at(-1)!)}/s, JSONata ${fmt(rates.jsonata.at(-1)!)}/s (payloads)`,
    );
  }
  const throughput = mapValues(rates, median);
  const ratios = {
    hub_vs_jsonata: round2(throughput.hub / throughput.jsonata),
    hub_vs_handwritten: round2(throughput.hub / throughput.handwritten),
  };
  log(
    `${w.name} medians: hub ${fmt(throughput.hub)}/s, hand-written ${fmt(throughput.handwritten)}/s, JSONata ${fmt(throughput.jsonata)}/s; ` +
      `hub_vs_jsonata ${ratios.hub_vs_jsonata}, hub_vs_handwritten ${ratios.hub_vs_handwritten}`,
  );
  return {
    payloads: {
      hub: { per_round: w.perRound, total: w.perRound * rounds },
      handwritten: { per_round: w.perRound, total: w.perRound * rounds },
      jsonata: { per_round: w.jsonataPerRound, total: w.jsonataPerRound * rounds },
    },
    throughput_payloads_per_s: mapValues(throughput, Math.round),
    throughput_rows_per_s: mapValues(throughput, (x) => Math.round(x * w.rowsPerPayload)),
    rounds_payloads_per_s: mapValues(rates, (xs) => xs.map(Math.round)),
    ratios,
  };
}

async function main(): Promise<void> {
  log(
    `mapping bench: ${rounds} rounds; per round ${fmt(payloadsPerRound)} acme payloads for hub and hand-written code, ${fmt(jsonataPerRound)} for JSONata; ` +
      `${fmt(gatewayPerRound)} and ${fmt(gatewayJsonataPerRound)} gateway payloads`,
  );
  log(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, node ${process.version}`,
  );
  const acme: Workload<Payload> = {
    name: 'acme',
    pool: makePayloads(DISTINCT),
    rowsPerPayload: 3,
    perRound: payloadsPerRound,
    jsonataPerRound,
    hub: (p) => hub.map(p).rows,
    handwritten,
    jsonata: async (p) => (await jsonataExpression.evaluate(p, jsonataBindings)) as Row[],
  };
  const gateway: Workload<GatewayPayload> = {
    name: 'gateway',
    pool: makeGatewayPayloads(DISTINCT / 4),
    rowsPerPayload: 12,
    perRound: gatewayPerRound,
    jsonataPerRound: gatewayJsonataPerRound,
    hub: (p) => gatewayHub.map(p).rows,
    handwritten: handwrittenGateway,
    jsonata: async (p) =>
      (await gatewayJsonata.evaluate(p, { canonical: CANONICAL, conversions: GATEWAY_CONVERSIONS })) as Row[],
  };
  await checkSameOutput(acme, hub);
  await checkSameOutput(gateway, gatewayHub);
  log(
    'outputs agree: hub, JSONata and hand-written code produce the same rows for 2,000 payloads of each workload',
  );

  const loadavg = os.loadavg();
  const acmeResult = await measure(acme);
  const gatewayResult = await measure(gateway);
  const { ratios } = acmeResult;
  const result = {
    benchmark: 'mapping',
    date: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? null,
      node: process.version,
      loadavg_at_start: loadavg,
    },
    workload: {
      format: 'acme.telemetry v2 (mappings/contracts/acme-telemetry-v2.schema.json)',
      mapping: 'mappings/telemetry-acme-v2.yaml',
      readings_per_payload: 3,
      rows_per_payload: 3,
      distinct_payloads: DISTINCT,
      hub_work:
        'contract validation (ajv, unknown_fields: warn) + routing-free map(): lets, explode, fields, UCUM units, lineage columns',
      peer_work:
        'the same rows without contract validation; unit factors resolved once from UCUM and bound as a table',
    },
    rounds,
    ...acmeResult,
    goals: {
      hub_vs_jsonata: { at_least: 50, met: ratios.hub_vs_jsonata >= 50 },
      hub_vs_handwritten: { at_least: 0.8, met: ratios.hub_vs_handwritten >= 0.8 },
    },
    nested_gateway: {
      workload: {
        format: 'gateway.nested v1 (mappings/contracts/gateway-nested-v1.schema.json)',
        mapping: 'mappings/telemetry-gateway-v1.yaml',
        sensors_per_payload: 3,
        readings_per_sensor: 4,
        rows_per_payload: 12,
        distinct_payloads: gateway.pool.length,
        hub_work:
          'contract validation + map(): explode $.sensors[*].readings[*], $parent, lets, UCUM units, a field reading another ($row.value)',
        peer_work:
          'the same rows without contract validation; two nested loops; unit factors bound as a table',
      },
      ...gatewayResult,
    },
  };
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/mapping.json`, `${JSON.stringify(result, null, 2)}\n`);
  log(
    `acme ratios: hub_vs_jsonata ${ratios.hub_vs_jsonata} (goal ≥ 50: ${result.goals.hub_vs_jsonata.met ? 'met' : 'missed'}), ` +
      `hub_vs_handwritten ${ratios.hub_vs_handwritten} (goal ≥ 0.8: ${result.goals.hub_vs_handwritten.met ? 'met' : 'missed'})`,
  );
  log(
    `gateway ratios: hub_vs_jsonata ${gatewayResult.ratios.hub_vs_jsonata}, hub_vs_handwritten ${gatewayResult.ratios.hub_vs_handwritten}`,
  );
  log(`wrote bench/results/mapping.json (checksum ${sink.rows} rows)`);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function mapValues<T, U>(record: Record<Engine, T>, f: (v: T) => U): Record<Engine, U> {
  return { hub: f(record.hub), jsonata: f(record.jsonata), handwritten: f(record.handwritten) };
}

function parseArgs(argv: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (!name || !Number.isInteger(value) || value <= 0) {
      throw new Error(
        `usage: node bench/mapping.ts [--payloads N] [--rounds N] [--jsonata-payloads N] [--gateway-payloads N] [--gateway-jsonata-payloads N]; got ${argv.join(' ')}`,
      );
    }
    out[name] = value;
  }
  return out;
}

await main();
