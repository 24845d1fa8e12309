import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { StackError, stackPaths, stackUp, stackVersions } from '../../src/devtools/stack/index.ts';
import { startHub } from '../../src/hub.ts';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['bin/iot-hub.js', ...args], { encoding: 'utf8' });

describe('iot-hub stack', () => {
  it('a second `stack up` is a quick no-op that says so', async () => {
    const started = Date.now();
    const { stdout } = await cli('stack', 'up');
    expect(stdout).toMatch(/^stack already up; nothing to do/m);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('`stack status --json` shows kafka, connect, postgres and redis up with versions', async () => {
    const { stdout } = await cli('stack', 'status', '--json');
    const status = JSON.parse(stdout) as {
      components: Record<string, { up: boolean; version?: string; address: string }>;
    };
    expect(Object.keys(status.components).sort()).toEqual(['connect', 'kafka', 'postgres', 'redis']);
    for (const c of Object.values(status.components)) expect(c.up).toBe(true);
    expect(status.components.kafka).toMatchObject({
      version: stackVersions.kafka,
      address: '127.0.0.1:19092',
    });
    expect(status.components.connect?.version).toBe(stackVersions.kafka);
    expect(status.components.postgres?.version).toMatch(/^\d+\.\d+/);
  });

  it('refuses to start over a port another process holds, and says what to do', async () => {
    // A second stack folder (same jars) that has not started anything: the running broker holds its port.
    const other = stackPaths(mkdtempSync(path.join(os.tmpdir(), 'hub-stack-')));
    symlinkSync(stackPaths().lib, other.lib);
    symlinkSync(stackPaths().plugins, other.plugins);
    writeFileSync(other.manifest, JSON.stringify(stackVersions));
    const error = await stackUp(loadConfig(), () => {}, other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as Error).message).toMatch(
      /^port 19092, needed by the Kafka broker, is taken by a process this stack did not start\. Stop it/,
    );
  });

  it('serves /healthz, /readyz with each dependency, and /metrics', async () => {
    const config = loadConfig();
    config.http.port = 0;
    config.database.url = inject('databaseUrl');
    config.log.level = 'silent';
    const hub = await startHub(config, { ingest: false, alerts: false, tickets: false });
    try {
      const base = `http://127.0.0.1:${hub.http.port}`;
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base}/readyz`);
      const body = (await ready.json()) as { status: string; dependencies: Record<string, { up: boolean }> };
      expect(ready.status).toBe(200);
      expect(body.status).toBe('ready');
      expect(Object.keys(body.dependencies).sort()).toEqual(['kafka', 'postgres', 'redis']);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^iot_hub_process_cpu_user_seconds_total\{service="iot-hub"\} /m);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await hub.stop();
    }
  });

  it('reports a dependency that is down as not ready (503), naming it', async () => {
    const config = loadConfig();
    config.http.port = 0;
    config.database.url = inject('databaseUrl');
    config.redis.url = 'redis://127.0.0.1:1';
    config.log.level = 'silent';
    const hub = await startHub(config, { ingest: false, alerts: false, tickets: false });
    try {
      const res = await fetch(`http://127.0.0.1:${hub.http.port}/readyz`);
      const body = (await res.json()) as { dependencies: Record<string, { up: boolean; error?: string }> };
      expect(res.status).toBe(503);
      expect(body.dependencies.redis?.up).toBe(false);
      expect(body.dependencies.postgres?.up).toBe(true);
    } finally {
      await hub.stop();
    }
  });
});
