import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startServiceNowEmulator } from '../../src/devtools/servicenow/index.ts';
import { StackError, stackPaths, stackUp, stackVersions } from '../../src/devtools/stack/index.ts';
import { startHub } from '../../src/hub.ts';

/** The stages these checks of the HTTP port and readiness do not need. */
const unusedStages = { quality: false, deviceState: false, cmdbPoll: false, cmdbSink: false, graphql: false };

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
    const hub = await startHub(config, {
      ingest: false,
      alerts: false,
      tickets: false,
      cdc: false,
      ...unusedStages,
    });
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
    const hub = await startHub(config, {
      ingest: false,
      alerts: false,
      tickets: false,
      cdc: false,
      ...unusedStages,
    });
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

  it('shows refused ServiceNow credentials on /readyz, naming the config key, and a start that fails stops', async () => {
    const sn = await startServiceNowEmulator({ port: 0 });
    const config = loadConfig();
    config.http.port = 0;
    config.database.url = inject('databaseUrl');
    config.log.level = 'silent';
    config.instance = `test-readyz-${process.pid}`;
    config.servicenow = { url: sn.url, auth: { ...config.servicenow.auth, password: 'wrong' } };
    const hub = await startHub(config, { ingest: false, alerts: false, cdc: false, ...unusedStages });
    try {
      const deadline = Date.now() + 60_000;
      type Ready = { dependencies: Record<string, { up: boolean; error?: string }> };
      let body: Ready | null = null;
      let status = 0;
      while (Date.now() < deadline) {
        const res = await fetch(`http://127.0.0.1:${hub.http.port}/readyz`);
        status = res.status;
        body = (await res.json()) as Ready;
        if (body?.dependencies.servicenow?.up === false) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toBe(503);
      expect(body?.dependencies.servicenow?.error).toContain('servicenow.auth.password');
      expect(body?.dependencies.postgres?.up).toBe(true);
    } finally {
      await hub.stop();
      await sn.close();
    }

    // All or nothing: a stage that cannot start stops what started and names itself.
    const broken = loadConfig();
    broken.http.port = 0;
    broken.database.url = inject('databaseUrl');
    broken.log.level = 'silent';
    broken.redis.url = 'redis://127.0.0.1:1';
    await expect(
      startHub(broken, { ingest: false, alerts: false, cdc: false, ...unusedStages }),
    ).rejects.toThrow(
      /^iot-hub could not start \(ServiceNow ticket delivery\): Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/,
    );
  });
});
