import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// What every benchmark in bench/ shares: progress lines with the elapsed time, number formatting, the
// machine's description and the results file.

const t0 = performance.now();
const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s]`;
/** A progress line, prefixed with the seconds since the benchmark started. */
export const log = (...parts: unknown[]) => console.log(stamp(), ...parts);
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
/** The 1-minute load average: a busy machine explains a slow run. */
export const load1 = () => round(os.loadavg()[0]!, 2);

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The machine a result was measured on, with whatever versions the benchmark adds. */
export function machineInfo(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? null,
    memory_gib: round(os.totalmem() / 2 ** 30, 1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    ...extra,
    load1_at_end: load1(),
    note: 'shared machine: other engineers ran tests against the same Kafka, Connect and PostgreSQL during the run',
  };
}

/** Writes bench/results/<name>.json (or `out`), creating the folder. */
export function writeResults(out: string, results: unknown): void {
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
}
