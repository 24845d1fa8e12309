// Mapping benchmark: maps acme.telemetry v2 payloads (3 readings each) with the compiled hub mapping
// (mappings/telemetry-acme-v2.yaml), the same mapping written in JSONata, and the same mapping written by
// hand in JavaScript, in one run, interleaved round by round so load from other processes hits all three
// alike. Reports medians of the rounds and writes bench/results/mapping.json.
//
//   node bench/mapping.ts [--payloads 1000000] [--rounds 5] [--jsonata-payloads 200000]
//
// --payloads is per round for the hub and hand-written JS; --jsonata-payloads is per round for JSONata,
// which is ~100× slower, so its default keeps the run near two minutes while still mapping 1,000,000
// payloads in total (5 × 200,000).
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
const ALIASES: Record<string, string> = { degF: '[degF]', psi: '[psi]', 'in/s': '[in_i]/s' };
const QUALITY: Record<string, number> = { good: 1, uncertain: 3, bad: 4 };

// The peers get the unit table the hub derives: each pair resolved once through UCUM as scale and offset.
const CONVERSIONS = conversionTable();

function conversionTable(): Record<string, [number, number]> {
  const ucum = (
    require('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } }
  ).UcumLhcUtils.getInstance();
  const table: Record<string, [number, number]> = {};
  for (const spec of ACME) {
    const metric = METRIC[spec.m]!;
    const to = CANONICAL[metric]!;
    const from = ALIASES[spec.u] ?? spec.u;
    const at0 = ucum.convertUnitTo(from, 0, to).toVal!;
    const atMillion = ucum.convertUnitTo(from, 1e6, to).toVal!;
    table[`${spec.u}|${to}`] = [(atMillion - at0) / 1e6, at0];
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

// --- measuring ------------------------------------------------------------------------------------------

type Engine = 'hub' | 'jsonata' | 'handwritten';
const sink = { rows: 0, value: 0 };

function runHub(pool: Payload[], n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const rows = hub.map(pool[i % DISTINCT]).rows;
    sink.rows += rows.length;
    sink.value += rows[0]!.value as number;
  }
  return performance.now() - t0;
}

function runHandwritten(pool: Payload[], n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const rows = handwritten(pool[i % DISTINCT]!);
    sink.rows += rows.length;
    sink.value += rows[0]!.value as number;
  }
  return performance.now() - t0;
}

async function runJsonata(pool: Payload[], n: number, progress: (done: number) => void): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const rows = (await jsonataExpression.evaluate(pool[i % DISTINCT], jsonataBindings)) as Row[];
    sink.rows += rows.length;
    sink.value += rows[0]!.value as number;
    if ((i + 1) % 50_000 === 0) progress(i + 1);
  }
  return performance.now() - t0;
}

async function checkSameOutput(pool: Payload[]): Promise<void> {
  for (const payload of pool.slice(0, 2000)) {
    const fromHub = hub.map(payload);
    if (fromHub.deadLetter || fromHub.errors.length)
      throw new Error(`hub reported ${fromHub.errors[0]?.message}`);
    const peers = {
      handwritten: handwritten(payload),
      jsonata: (await jsonataExpression.evaluate(payload, jsonataBindings)) as Row[],
    };
    for (const [name, rows] of Object.entries(peers)) {
      if (!sameRows(fromHub.rows, rows)) {
        throw new Error(
          `${name} differs from the hub on ${JSON.stringify(payload)}:\n${JSON.stringify(fromHub.rows)}\n${JSON.stringify(rows)}`,
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
    return isDeepStrictEqual(restA, restB) && Math.abs((va as number) - (vb as number)) < 1e-9;
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const perSecond = (n: number, ms: number) => (n / ms) * 1000;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

// On a terminal, progress rewrites one line; in a log, it is a line every 50,000 JSONata payloads.
const tty = process.stdout.isTTY === true;
const log = (line: string) => process.stdout.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
const progress = (line: string) => process.stdout.write(tty ? `\r\x1b[K${line}` : `${line}\n`);

async function main(): Promise<void> {
  log(
    `mapping bench: ${rounds} rounds; per round ${fmt(payloadsPerRound)} payloads for hub and hand-written JS, ${fmt(jsonataPerRound)} for JSONata`,
  );
  log(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, node ${process.version}`,
  );
  const pool = makePayloads(DISTINCT);
  await checkSameOutput(pool);
  log('outputs agree: hub, JSONata and hand-written JS produce the same rows for 2,000 payloads');

  // Warm-up, so every engine is measured after its JIT settles.
  runHub(pool, 100_000);
  runHandwritten(pool, 100_000);
  await runJsonata(pool, 5_000, () => {});

  const rates: Record<Engine, number[]> = { hub: [], jsonata: [], handwritten: [] };
  for (let r = 1; r <= rounds; r++) {
    rates.hub.push(perSecond(payloadsPerRound, runHub(pool, payloadsPerRound)));
    rates.handwritten.push(perSecond(payloadsPerRound, runHandwritten(pool, payloadsPerRound)));
    const jsonataMs = await runJsonata(pool, jsonataPerRound, (done) =>
      progress(`  round ${r}: JSONata ${fmt(done)}/${fmt(jsonataPerRound)}`),
    );
    rates.jsonata.push(perSecond(jsonataPerRound, jsonataMs));
    log(
      `round ${r}/${rounds}: hub ${fmt(rates.hub.at(-1)!)}/s, hand-written ${fmt(rates.handwritten.at(-1)!)}/s, JSONata ${fmt(rates.jsonata.at(-1)!)}/s (payloads)`,
    );
  }

  const throughput = {
    hub: median(rates.hub),
    jsonata: median(rates.jsonata),
    handwritten: median(rates.handwritten),
  };
  const ratios = {
    hub_vs_jsonata: round2(throughput.hub / throughput.jsonata),
    hub_vs_handwritten: round2(throughput.hub / throughput.handwritten),
  };
  const result = {
    benchmark: 'mapping',
    date: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? null,
      node: process.version,
      loadavg_at_start: os.loadavg(),
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
    payloads: {
      hub: { per_round: payloadsPerRound, total: payloadsPerRound * rounds },
      handwritten: { per_round: payloadsPerRound, total: payloadsPerRound * rounds },
      jsonata: { per_round: jsonataPerRound, total: jsonataPerRound * rounds },
    },
    throughput_payloads_per_s: mapValues(throughput, Math.round),
    throughput_rows_per_s: mapValues(throughput, (x) => Math.round(x * 3)),
    rounds_payloads_per_s: mapValues(rates, (xs) => xs.map(Math.round)),
    ratios,
    goals: {
      hub_vs_jsonata: { at_least: 50, met: ratios.hub_vs_jsonata >= 50 },
      hub_vs_handwritten: { at_least: 0.33, met: ratios.hub_vs_handwritten >= 0.33 },
    },
  };
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/mapping.json`, `${JSON.stringify(result, null, 2)}\n`);
  log(
    `medians: hub ${fmt(throughput.hub)}/s, hand-written ${fmt(throughput.handwritten)}/s, JSONata ${fmt(throughput.jsonata)}/s (payloads of 3 readings)`,
  );
  log(
    `ratios: hub_vs_jsonata ${ratios.hub_vs_jsonata} (goal ≥ 50: ${result.goals.hub_vs_jsonata.met ? 'met' : 'missed'}), ` +
      `hub_vs_handwritten ${ratios.hub_vs_handwritten} (goal ≥ 0.33: ${result.goals.hub_vs_handwritten.met ? 'met' : 'missed'})`,
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
        `usage: node bench/mapping.ts [--payloads N] [--rounds N] [--jsonata-payloads N]; got ${argv.join(' ')}`,
      );
    }
    out[name] = value;
  }
  return out;
}

await main();
