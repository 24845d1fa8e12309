import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { withDatabase } from '../../src/db/index.ts';

// `iot-hub demo --once` as a newcomer runs it, as a child process against the real stack, twice in a row on the
// same database: both runs must end cleanly with real site names, incidents and no error lines. The demo gets
// a database of its own (dropped first, so the first run also creates and migrates it): its ticket
// reconciler takes every undelivered alert of its database, which must not be other tests' alerts.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const databaseName = 'iot_hub_test_demo';

interface DemoRun {
  code: number | null;
  output: string;
}

function runDemo(databaseUrl: string): Promise<DemoRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/iot-hub.js', 'demo', '--once', '--devices', '8', '--duration', '1h'],
      {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: databaseUrl },
        timeout: 90_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Site names of the hourly-average table (console.table rows: │ index │ 'site' │ 'metric' │ …). */
function sitesIn(output: string): string[] {
  const rows = output.matchAll(/│\s*\d+\s*│\s*'([^']+)'\s*│\s*'(?:temperature|vibration)'\s*│/g);
  return [...new Set([...rows].map((m) => m[1]!))];
}

function incidentCount(output: string): number {
  const match = /incidents opened in ServiceNow \([^)]*\): (\d+)/.exec(output);
  return match ? Number(match[1]) : -1;
}

function expectClean(run: DemoRun): void {
  expect(run.output, run.output).not.toMatch(/"level":\s*(50|60|"error"|"fatal")/);
  expect(run.output, run.output).not.toMatch(/\bERROR\b/);
  expect(run.output, run.output).not.toMatch(/ECONNREFUSED/);
  expect(run.output, run.output).not.toMatch(/landed under site Unknown/);
  expect(run.code, run.output).toBe(0);
}

describe('iot-hub demo', () => {
  const databaseUrl = withDatabase(inject('databaseUrl'), databaseName);

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });

  it('runs twice in a row: real sites, incidents from the emulator, dead letters, no errors', async () => {
    const first = await runDemo(databaseUrl);
    expectClean(first);
    const second = await runDemo(databaseUrl);
    expectClean(second);

    for (const run of [first, second]) {
      const sites = sitesIn(run.output);
      expect(
        sites.filter((s) => s !== 'Unknown'),
        run.output,
      ).not.toEqual([]);
      expect(incidentCount(run.output), run.output).toBeGreaterThanOrEqual(1);
      expect(run.output).toMatch(/│\s*'INC\d{7}'\s*│\s*'\[(WARN|FAIL)\] [^']+'\s*│\s*'iothub:demo-/);
      expect(run.output).toMatch(/dead letters by cause: [1-9]\d*/);
    }
    // Each run simulates devices of its own, so the second neither collides with nor reuses the first's data.
    const prefix = (run: DemoRun) => /\(ids (demo-[0-9a-f]+-)…\)/.exec(run.output)?.[1];
    expect(prefix(first)).toBeDefined();
    expect(prefix(second)).not.toBe(prefix(first));
  }, 200_000);
});
