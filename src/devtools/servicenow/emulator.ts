import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccessControl, effectiveRoles } from './access-control.ts';
import type { EmulatorContext } from './api-types.ts';
import type { EmulatorUser, ServiceNowEmulatorOptions } from './emulator-options.ts';
import { createFaultInjector, type ServiceNowFaults } from './faults.ts';
import { createIncidentRule } from './incident-rules.ts';
import { createTokenStore } from './oauth-tokens.ts';
import { createRateLimiter, type RateLimiter, type RateLimitRule } from './rate-limiter.ts';
import { createRecordStore, type GlideRecord } from './record-store.ts';
import { createRequestLog, type RequestRecord, type RequestStats } from './request-log.ts';
import { createRequestPipeline } from './request-pipeline.ts';
import { seedBaseData } from './seed-data.ts';
import { createTableRegistry } from './table-registry.ts';
import { cmdbTables, defaultDataSources, defaultRelationTypes } from './tables-cmdb.ts';
import { eventTables } from './tables-event.ts';
import { systemTables } from './tables-system.ts';
import { defaultCloseCodes, taskTables } from './tables-task.ts';
import { type ActingUser, insertRecord, type TableRule } from './write-record.ts';

/** A stored row as the inspection helpers return it: raw string values, `sys_id` always present. */
export type EmulatorRecord = GlideRecord & { sys_id: string };

/** A running emulator: its address, its credentials, and handles for tests to steer and inspect it. */
export interface ServiceNowEmulator {
  /** `http://host:port`, the instance URL to give a client. */
  url: string;
  port: number;
  credentials: { username: string; password: string; clientId: string; clientSecret: string };
  /** Stops listening and drops open connections, hung lost-response sockets included. */
  close(): Promise<void>;
  /** Replaces the fault settings (an empty object turns every fault off); `times` counts start again. */
  setFaults(faults: ServiceNowFaults): void;
  /** Installs, replaces or (with undefined) removes the rate-limit rule; windows start empty. */
  setRateLimit(rule: RateLimitRule | undefined): void;
  /** Makes every issued access token expire now, as if its lifespan had run out mid-run. */
  expireAccessTokens(): void;
  /** Every request seen (newest 100,000), oldest first. */
  requests(): RequestRecord[];
  /** Counters by method, route, status and fault, with first and last arrival times. */
  stats(): RequestStats;
  resetStats(): void;
  /** Copies of the stored rows of a table and its child classes, oldest first, with raw string values. */
  records(table: string): EmulatorRecord[];
  record(table: string, sysId: string): EmulatorRecord | undefined;
  /** Journal entries (`sys_journal_field`) of a record, oldest first; optionally of one element (`work_notes`). */
  journal(sysId: string, element?: string): EmulatorRecord[];
  /** Inserts a row as the API user would, business rules included; `sys_id` may be given (seeding). */
  insert(table: string, values: Record<string, unknown>): EmulatorRecord;
}

/**
 * Starts a local ServiceNow instance stand-in that follows ServiceNow's documented behaviour
 * (docs/servicenow-emulator.md): the Table API, OAuth, rate limits, Event Management and IRE, with fault
 * injection. Resolves once it listens; rejects if the port is taken or an option is invalid.
 */
export async function startServiceNowEmulator(
  options: ServiceNowEmulatorOptions = {},
): Promise<ServiceNowEmulator> {
  const now = options.now ?? Date.now;
  const user = options.user ?? { username: 'admin', password: 'admin' };
  const allUsers = uniqueUsers([user, ...(options.users ?? [])]);
  const client = options.oauthClient ?? { clientId: 'hub', clientSecret: 'hub-secret' };
  const dataSources = options.dataSources ?? defaultDataSources;
  const registry = createTableRegistry([
    ...systemTables,
    ...taskTables(options.closeCodes ?? defaultCloseCodes),
    ...cmdbTables(dataSources),
    ...eventTables,
    ...(options.extraTables ?? []),
  ]);
  const store = createRecordStore(registry);
  const rules = new Map<string, TableRule>([
    ['incident', createIncidentRule({ resolutionDataPolicy: options.resolutionDataPolicy ?? true })],
  ]);
  const ctx: EmulatorContext = {
    registry,
    store,
    rules,
    now,
    invalidQueryReturnsNoRows: options.invalidQueryReturnsNoRows ?? false,
    dataSources,
    access: createAccessControl(registry),
    caseSensitiveQueries: options.caseSensitiveQueries ?? false,
  };
  const system: ActingUser = { userName: 'system', sysId: '' };
  const actingUsers = seedBaseData(
    { ...ctx, user: system },
    allUsers.map((u) => u.username),
    defaultRelationTypes,
  );
  for (const u of allUsers) {
    const acting = actingUsers.get(u.username);
    if (acting) acting.roles = effectiveRoles(u.roles ?? ['admin']);
  }
  const apiUser = actingUsers.get(user.username) ?? system;
  const faults = createFaultInjector(options.faults ?? {}, options.seed);
  const tokens = createTokenStore({
    now,
    accessTokenSeconds: options.accessTokenSeconds ?? 1800,
    refreshTokenSeconds: options.refreshTokenSeconds ?? 8_640_000,
  });
  let limiter: RateLimiter | undefined = options.rateLimit
    ? createRateLimiter(options.rateLimit, now)
    : undefined;
  const log = createRequestLog();
  const passwords = new Map(allUsers.map((u) => [u.username, u.password]));

  const server = createServer(
    createRequestPipeline({
      ctx,
      faults,
      rateLimiter: () => limiter,
      tokens,
      oauth: {
        ...client,
        clientCredentialsGrant: options.clientCredentialsGrant ?? true,
        applicationUser: user.username,
        passwords,
      },
      users: actingUsers,
      log,
      maxContentLength: options.maxContentLength ?? 10 * 1024 * 1024,
    }),
  );
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const copy = (values: GlideRecord): EmulatorRecord => ({ ...values, sys_id: values.sys_id ?? '' });

  return {
    url: `http://${host}:${port}`,
    port,
    credentials: { username: user.username, password: user.password, ...client },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    setFaults: (next) => faults.set(next),
    setRateLimit: (rule) => {
      limiter = rule ? createRateLimiter(rule, now) : undefined;
    },
    expireAccessTokens: () => tokens.expireAccessTokens(),
    requests: () => log.entries(),
    stats: () => log.stats(),
    resetStats: () => log.reset(),
    records: (table) => store.list(table).map((row) => copy(row.values)),
    record: (table, sysId) => {
      const row = store.get(table, sysId);
      return row && copy(row.values);
    },
    journal: (sysId, element) =>
      store
        .list('sys_journal_field')
        .filter(
          (e) => e.values.element_id === sysId && (element === undefined || e.values.element === element),
        )
        .map((e) => copy(e.values)),
    insert: (table, values) => {
      if (!registry.has(table))
        throw new Error(`unknown table ${table}; known: ${registry.names().join(', ')}`);
      return copy(insertRecord({ ...ctx, user: apiUser, allowSystemFields: true }, table, values).values);
    },
  };
}

/** The main user first; a later entry with the same name is refused, since it would be ambiguous. */
function uniqueUsers(users: readonly EmulatorUser[]): EmulatorUser[] {
  const seen = new Set<string>();
  for (const u of users) {
    if (seen.has(u.username))
      throw new Error(
        `emulator user ${u.username} is defined twice; give each user in \`users\` its own name`,
      );
    seen.add(u.username);
  }
  return [...users];
}
