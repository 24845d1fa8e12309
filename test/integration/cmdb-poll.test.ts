import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  type CmdbPollSource,
  CmdbTableReader,
  loadCmdbPollSources,
  pollCmdbTable,
  type RunningCmdbPoll,
  startCmdbPoll,
  type TablePageRequest,
} from '../../src/cdc/index.ts';
import { defaultConfig, type HubConfig } from '../../src/config/index.ts';
import { type ServiceNowEmulator, startServiceNowEmulator } from '../../src/devtools/servicenow/index.ts';
import { recreateItsmDatabase } from '../support/itsm-database.ts';

// The ServiceNow CMDB as a source (docs/architecture.md, "ServiceNow CMDB as a source"): the in-process
// emulator with a clock of our own (sys_updated_on is the emulator's clock), a scratch database of our own.

let databaseUrl: string;
let pool: pg.Pool;
let sn: ServiceNowEmulator;
let clock: number;
let config: HubConfig;
let source: CmdbPollSource;
let reader: CmdbTableReader;
let company: string;
let location: string;
const running: RunningCmdbPoll[] = [];
const options = { overlapMs: 60_000, pageSize: 5 };

beforeAll(async () => {
  databaseUrl = await recreateItsmDatabase(inject('serverUrl'), 'iot_hub_test_cmdb_poll');
  pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
});

afterAll(async () => {
  await pool?.end();
});

beforeEach(async () => {
  clock = Date.parse('2026-11-30T10:00:00Z');
  sn = await startServiceNowEmulator({ port: 0, now: () => clock });
  config = {
    ...structuredClone(defaultConfig),
    file: null,
    database: { url: databaseUrl, poolMax: 3 },
    servicenow: { ...defaultConfig.servicenow, url: sn.url },
    cmdbPoll: { mappings: ['cmdb-device-ci'], intervalSeconds: 30, overlapSeconds: 60, pageSize: 5 },
  };
  source = loadCmdbPollSources(config.cmdbPoll.mappings)[0]!;
  reader = new CmdbTableReader(config.servicenow);
  company = sn.insert('core_company', { name: 'Acme' }).sys_id;
  location = sn.insert('cmn_location', { name: 'Plant Hamburg' }).sys_id;
  await pool.query(
    'TRUNCATE hub.cmdb_poll_state, hub.dead_letter; DELETE FROM dw.dim_cmdb_ci WHERE cmdb_ci_sk <> -1',
  );
});

afterEach(async () => {
  for (const poll of running.splice(0)) await poll.stop();
  await sn.close();
});

function insertCi(name: string, values: Record<string, string> = {}): string {
  return sn.insert('cmdb_ci_iot', {
    name,
    serial_number: `SN-${name}`,
    firmware_version: '1.0.0',
    model_number: 'TX-300',
    manufacturer: company,
    location,
    ...values,
  }).sys_id;
}

/** An update through the Table API, as a ServiceNow user would make it. */
async function patchCi(sysId: string, values: Record<string, string>): Promise<void> {
  const res = await fetch(`${sn.url}/api/now/table/cmdb_ci_iot/${sysId}`, {
    method: 'PATCH',
    headers: {
      Authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    },
    body: JSON.stringify(values),
  });
  expect(res.status).toBe(200);
}

async function versions(sysId: string) {
  const { rows } = await pool.query(
    `SELECT ci_name, device_nk, firmware_version, manufacturer, location_name, install_status, is_current,
            valid_from, valid_to, source_commit_lsn, source_lsn
     FROM dw.dim_cmdb_ci WHERE cmdb_ci_nk = $1 ORDER BY valid_from`,
    [sysId],
  );
  return rows;
}

async function watermark(): Promise<Date | null> {
  const { rows } = await pool.query(
    "SELECT watermark FROM hub.cmdb_poll_state WHERE table_name = 'cmdb_ci_iot'",
  );
  return rows[0]?.watermark ?? null;
}

function tablePages() {
  return sn
    .requests()
    .filter((r) => r.method === 'GET' && r.path.startsWith('/api/now/v2/table/cmdb_ci_iot'));
}

describe('CMDB poll', () => {
  it('loads every CI page by page, seven of them updated within one second', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(insertCi(`dev-${i}`));
    for (let i = 7; i < 12; i++) {
      clock += 1000;
      ids.push(insertCi(`dev-${i}`));
    }
    const recording = new RecordingReader(config.servicenow);
    const polled = await pollCmdbTable(pool, recording, source, options);
    expect(polled).toMatchObject({ records: 12, pages: 3, outcome: { inserted: 12 } });
    expect(polled.outcome.deadLetters ?? 0).toBe(0);
    // Keyed by time, with an offset only within the last page's second.
    expect(recording.requests.map((r) => [r.query, r.offset, r.limit])).toEqual([
      ['ORDERBYsys_updated_on^ORDERBYsys_id', 0, 5],
      ['sys_updated_on>=2026-11-30 10:00:00^ORDERBYsys_updated_on^ORDERBYsys_id', 5, 5],
      ['sys_updated_on>=2026-11-30 10:00:03^ORDERBYsys_updated_on^ORDERBYsys_id', 1, 5],
    ]);
    expect(tablePages().map((r) => r.status)).toEqual([200, 200, 200]);
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n, count(DISTINCT cmdb_ci_nk)::int AS keys FROM dw.dim_cmdb_ci WHERE cmdb_ci_sk <> -1',
    );
    expect(rows[0]).toEqual({ n: 12, keys: 12 });
    expect(await versions(ids[3]!)).toMatchObject([
      {
        ci_name: 'dev-3',
        device_nk: 'dev-3',
        firmware_version: '1.0.0',
        manufacturer: 'Acme',
        location_name: 'Plant Hamburg',
        install_status: 'installed',
        is_current: true,
      },
    ]);
    expect((await watermark())?.toISOString()).toBe('2026-11-30T10:00:05.000Z');
  });

  it('picks up updates incrementally: the overlap fetches CIs again without a second version', async () => {
    const a = insertCi('dev-a');
    const b = insertCi('dev-b');
    await pollCmdbTable(pool, reader, source, options);
    clock += 10_000;
    await patchCi(a, { firmware_version: '1.1.0' });
    const polled = await pollCmdbTable(pool, reader, source, options);
    // Both CIs are within the 60 s overlap: b is a duplicate, a gets its second version.
    expect(polled).toMatchObject({ records: 2, outcome: { versioned: 1, duplicates: 1 } });
    const again = await pollCmdbTable(pool, reader, source, options);
    expect(again).toMatchObject({ records: 2, outcome: { duplicates: 2 } });
    expect(again.outcome.versioned ?? 0).toBe(0);
    const history = await versions(a);
    expect(history.map((v) => [v.firmware_version, v.is_current])).toEqual([
      ['1.0.0', false],
      ['1.1.0', true],
    ]);
    expect(history[1].valid_from.toISOString()).toBe('2026-11-30T10:00:10.000Z');
    expect(await versions(b)).toHaveLength(1);
    // Two minutes on, the poll starts 60 s before the watermark (a's update): a again, and b's change.
    clock += 120_000;
    await patchCi(b, { firmware_version: '2.0.0' });
    const later = await pollCmdbTable(pool, reader, source, options);
    expect(later).toMatchObject({ records: 2, outcome: { versioned: 1, duplicates: 1 } });
    // Nothing changed for over a minute after b: only b is fetched.
    clock += 120_000;
    expect(await pollCmdbTable(pool, reader, source, options)).toMatchObject({ records: 1 });
    expect((await versions(b)).map((v) => v.firmware_version)).toEqual(['1.0.0', '2.0.0']);
  });

  it('does not lose a second update within the same second as one already polled', async () => {
    const a = insertCi('dev-same');
    clock += 5000;
    await patchCi(a, { firmware_version: '3.0.0' });
    await pollCmdbTable(pool, reader, source, options);
    expect((await versions(a)).at(-1)).toMatchObject({ firmware_version: '3.0.0', source_lsn: '1' });
    // Same sys_updated_on, next sys_mod_count: a new position, not a duplicate.
    await patchCi(a, { firmware_version: '3.0.1' });
    const polled = await pollCmdbTable(pool, reader, source, options);
    expect(polled.outcome.duplicates ?? 0).toBe(0);
    const current = (await versions(a)).filter((v) => v.is_current);
    expect(current).toMatchObject([{ firmware_version: '3.0.1', source_lsn: '2' }]);
  });

  it('closes the current version of a CI whose install status becomes Retired', async () => {
    const a = insertCi('dev-retired');
    await pollCmdbTable(pool, reader, source, options);
    clock += 3000;
    await patchCi(a, { install_status: '7' });
    const polled = await pollCmdbTable(pool, reader, source, options);
    expect(polled.outcome.closed).toBe(1);
    const history = await versions(a);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ is_current: false });
    expect(history[0].valid_to.toISOString()).toBe('2026-11-30T10:00:03.000Z');
  });

  it('dead-letters a CI that fails its mapping once, with the text a person sees, and goes on', async () => {
    const bad = insertCi('   ');
    const good = insertCi('dev-good');
    const polled = await pollCmdbTable(pool, reader, source, options);
    expect(polled).toMatchObject({ records: 2, outcome: { inserted: 1, deadLetters: 1 } });
    expect(await versions(good)).toHaveLength(1);
    const { rows } = await pool.query(
      `SELECT source_topic, convert_from(message_key, 'UTF8') AS key, error_code, error_message, mapping_id,
              convert_from(payload, 'UTF8')::jsonb ->> 'name' AS name
       FROM hub.dead_letter`,
    );
    expect(rows).toEqual([
      {
        source_topic: 'servicenow.cmdb_ci_iot',
        key: bad,
        error_code: 'SOURCE_INVALID',
        error_message: 'the record does not match the source schema: $.name must match pattern "\\S"',
        mapping_id: 'cmdb-device-ci',
        name: '   ',
      },
    ]);
    // Fetched again within the overlap: still one letter.
    const again = await pollCmdbTable(pool, reader, source, options);
    expect(again.knownLetters).toBe(1);
    expect((await pool.query('SELECT count(*)::int AS n FROM hub.dead_letter')).rows[0].n).toBe(1);
    // Fixed in ServiceNow: the next poll applies it.
    clock += 1000;
    await patchCi(bad, { name: 'dev-fixed' });
    await pollCmdbTable(pool, reader, source, options);
    expect(await versions(bad)).toMatchObject([{ device_nk: 'dev-fixed', is_current: true }]);
  });

  it('keeps its watermark while ServiceNow is down, warns once, and catches up when it answers again', async () => {
    const lines: { level: number; msg: string; err?: string }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const first = insertCi('dev-before');
    const poll = await startCmdbPoll(config, { logger, intervalMs: 100 });
    running.push(poll);
    await waitFor(async () => (await versions(first)).length === 1);
    const before = await watermark();

    sn.setFaults({ serverError: { rate: 1 } });
    // Changes made during the outage, long past the overlap window.
    clock += 10 * 60_000;
    const during = insertCi('dev-during');
    await waitFor(() => tablePages().filter((r) => r.fault === 'serverError').length >= 3);
    expect(poll.health()).toMatchObject({ state: 'failing', errorKind: 'server' });
    expect(await watermark()).toEqual(before);
    const { rows } = await pool.query(
      "SELECT last_error FROM hub.cmdb_poll_state WHERE table_name = 'cmdb_ci_iot'",
    );
    expect(rows[0].last_error).toMatch(/^GET \/api\/now\/v2\/table\/cmdb_ci_iot: 50[023] /);

    sn.setFaults({});
    await waitFor(async () => (await versions(during)).length === 1);
    await waitFor(() => lines.some((l) => l.msg.startsWith('the ServiceNow CMDB poll completes again')));
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe(
      'the ServiceNow CMDB poll is failing; it keeps its watermark and catches up when the poll completes again (one line follows then)',
    );
    const recovered = lines.findIndex((l) => l.msg.startsWith('the ServiceNow CMDB poll completes again'));
    expect(lines.slice(recovered).filter((l) => l.msg === 'CMDB poll failed')).toEqual([]);
    expect(poll.health()).toMatchObject({ state: 'running' });
    expect((await watermark())!.getTime()).toBeGreaterThan(before!.getTime());
  });

  it('reports refused credentials as a configuration problem in its health (what /readyz shows)', async () => {
    const wrong = {
      ...config,
      servicenow: { ...config.servicenow, auth: { ...config.servicenow.auth, password: 'x' } },
    };
    const poll = await startCmdbPoll(wrong, { logger: pino({ level: 'silent' }), intervalMs: 100 });
    running.push(poll);
    await waitFor(() => poll.health().state === 'failing');
    expect(poll.health()).toMatchObject({
      errorKind: 'auth',
      error:
        'GET /api/now/v2/table/cmdb_ci_iot: 401 User Not Authenticated: Required to provide Auth information',
    });
  });

  it('refuses an unknown mapping id in cmdbPoll.mappings, naming the known ones', () => {
    expect(() => loadCmdbPollSources(['cmdb-devices'])).toThrow(
      "cmdbPoll.mappings names 'cmdb-devices', which is not a DimensionMapping with source.kind cmdb_poll in mappings; known: cmdb-asset, cmdb-device-ci",
    );
  });
});

/** Records each page request, to check the queries the poll sends. */
class RecordingReader extends CmdbTableReader {
  requests: TablePageRequest[] = [];
  override async page(request: TablePageRequest) {
    this.requests.push(request);
    return super.page(request);
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}
