import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { StackPaths } from './paths.ts';

/** A JVM the stack started, known by the pid it recorded; the stack never kills by process name. */
export interface ManagedProcess {
  name: 'kafka' | 'connect';
  pid: number;
}

export function pidFile(paths: StackPaths, name: ManagedProcess['name']): string {
  return path.join(paths.run, `${name}.pid`);
}

/** The recorded process when it is still alive and still ours (the pid was not reused by something else). */
export function runningProcess(paths: StackPaths, name: ManagedProcess['name']): ManagedProcess | null {
  const file = pidFile(paths, name);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(paths.root)) return null;
  } catch {
    // No /proc (not Linux): trust the pid file.
  }
  return { name, pid };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a detached JVM whose output goes to logs/<name>.log, and records its pid. */
export function startDetached(
  paths: StackPaths,
  name: ManagedProcess['name'],
  bin: string,
  args: string[],
): ManagedProcess {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.run, { recursive: true });
  const out = openSync(path.join(paths.logs, `${name}.log`), 'a');
  const child = spawn(bin, args, { cwd: paths.root, detached: true, stdio: ['ignore', out, out] });
  child.unref();
  if (!child.pid) throw new Error(`could not start ${name} (${bin})`);
  writeFileSync(pidFile(paths, name), `${child.pid}\n`);
  return { name, pid: child.pid };
}

/** SIGTERM (a controlled shutdown for Kafka), then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(
  paths: StackPaths,
  proc: ManagedProcess,
  graceMs = 30_000,
): Promise<'stopped' | 'killed'> {
  process.kill(proc.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let outcome: 'stopped' | 'killed' = 'stopped';
  while (isAlive(proc.pid)) {
    if (Date.now() > deadline) {
      process.kill(proc.pid, 'SIGKILL');
      outcome = 'killed';
    }
    await sleep(200);
  }
  rmSync(pidFile(paths, proc.name), { force: true });
  return outcome;
}

/** True when something accepts TCP connections on host:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value, or fails after `timeoutMs` with `describe()` in the message. */
export async function waitFor<T>(
  check: () => Promise<T | null>,
  timeoutMs: number,
  describe: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(describe());
    await sleep(250);
  }
}
