import { describe, expect, it } from 'vitest';
import { emptyOutcome } from '../../../src/quality/alert-events.ts';
import { type ActiveAlertRow, foldAlertEvents } from '../../../src/quality/alert-fold.ts';
import type { AlertStore } from '../../../src/quality/alert-store.ts';
import {
  type AlertEvent,
  type AlertReading,
  alertKey,
  createAlertEngine,
  parseAlertRules,
  type RaiseOutcome,
} from '../../../src/quality/index.ts';
import { captureLogger } from '../../support/capture-logger.ts';

// The alert engine's ordering, staging and retry logic against an
// in-memory store that folds events the way raiseAlerts does (alert-fold.ts). The database side is covered by
// test/integration/itsm-alerts.test.ts.

const rules = parseAlertRules(`
rules:
  - name: temperature_high
    kind: threshold
    metric: temperature
    above: 80
    for: 5m
    clear_for: 2m
    hysteresis: 2
    severity: warn
`);

const base = Date.UTC(2026, 0, 1);
const minute = 60_000;
const key = alertKey('dev-1', 'temperature', 'temperature_high');

function series(deviceId: string, fromMin: number, toMin: number, value: number): AlertReading[] {
  const out: AlertReading[] = [];
  for (let t = fromMin * minute; t < toMin * minute; t += 30_000)
    out.push({ deviceId, metric: 'temperature', value, ts: base + t });
  return out;
}

interface FakeStore extends AlertStore {
  /** Events applied to the fake hub.alert, in commit order. */
  applied: AlertEvent[];
  active: Map<string, ActiveAlertRow>;
  /** Runs before each raise; may delay or throw (then nothing is applied unless it applied itself). */
  beforeRaise?: (events: readonly AlertEvent[], apply: () => RaiseOutcome) => Promise<void>;
  /** Delay of each devices() call, by call number. */
  deviceDelays: number[];
}

function fakeStore(): FakeStore {
  let nextId = 1;
  let deviceCalls = 0;
  const store: FakeStore = {
    applied: [],
    active: new Map(),
    deviceDelays: [],
    async devices(ids) {
      const delay = store.deviceDelays[deviceCalls++] ?? 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      return new Map(
        ids.map((id) => [
          id,
          { deviceId: id, rangeMin: 0, rangeMax: 100, expectedIntervalMs: 30_000, assetId: null },
        ]),
      );
    },
    async activeAlerts(by) {
      return [...store.active.values()]
        .filter((a) =>
          'rule' in by
            ? a.alert_key.endsWith(`:${by.rule}`)
            : by.devices.some((d) => a.alert_key.startsWith(`${d}:`)),
        )
        .map((a) => ({
          alertKey: a.alert_key,
          deviceId: a.alert_key.split(':')[0]!,
          rule: a.alert_key.split(':')[2]!,
          status: a.status,
          openedAt: a.opened_at!,
        }));
    },
    async devicesInMaintenance() {
      return new Set();
    },
    async lastReadingTimes() {
      return new Map();
    },
    async raise(events, options) {
      const apply = () => {
        const outcome = emptyOutcome();
        const touched = foldAlertEvents(events, [...store.active.values()], outcome, new Set(), options);
        for (const a of touched) {
          if (a.status === 'cleared') {
            store.active.delete(a.key);
            continue;
          }
          const previous = store.active.get(a.key);
          store.active.set(a.key, {
            id: a.id ?? nextId++,
            alert_key: a.key,
            status: a.status,
            severity: a.severity,
            evidence: a.evidence,
            ticket_state: a.ticketState,
            ticket_sys_id: null,
            opened_at: previous?.opened_at ?? a.openedAt,
            last_seen_at:
              a.repeatDelta > 0 || a.id === null ? a.lastSeenAt : (previous?.last_seen_at ?? null),
          });
        }
        store.applied.push(...events);
        return outcome;
      };
      if (store.beforeRaise) {
        let applied: RaiseOutcome | null = null;
        await store.beforeRaise(events, () => {
          applied = apply();
          return applied;
        });
        if (applied) return applied;
      }
      return apply();
    },
  };
  return store;
}

const summary = (events: readonly AlertEvent[]) =>
  events.map((e) => `${e.kind} ${new Date(e.at!.getTime()).toISOString()}`);

describe('alert engine ordering and durability', () => {
  it('evaluates concurrent calls in call order, even when the first one waits longer for the database', async () => {
    // The first call's device lookup is slow: without ordering, the second call's readings (back to normal)
    // would be applied first and the first call's older readings ignored, so the alert would never open.
    const concurrent = fakeStore();
    concurrent.deviceDelays = [60];
    const engine = createAlertEngine({ store: concurrent, rules });
    const [first, second] = await Promise.all([
      engine.evaluateReadings(series('dev-1', 0, 6, 85)),
      engine.evaluateReadings(series('dev-1', 6, 12, 70)),
    ]);
    expect(first.opened).toBe(1);
    expect(second.cleared).toBe(1);

    const serial = fakeStore();
    const reference = createAlertEngine({ store: serial, rules });
    await reference.evaluateReadings(series('dev-1', 0, 6, 85));
    await reference.evaluateReadings(series('dev-1', 6, 12, 70));
    expect(summary(concurrent.applied)).toEqual(summary(serial.applied));
    expect(summary(concurrent.applied)).toEqual([
      `raise ${new Date(base + 5 * minute).toISOString()}`,
      `clear ${new Date(base + 8 * minute).toISOString()}`,
    ]);
  });

  it('retries a write that failed on a lost connection: the alert is written once, with one warning', async () => {
    const store = fakeStore();
    let failures = 0;
    store.beforeRaise = async () => {
      if (failures++ === 0)
        throw Object.assign(new Error('terminating connection due to administrator command'), {
          code: '57P01',
        });
    };
    const log = captureLogger();
    const engine = createAlertEngine({ store, rules, logger: log.logger, retryDelayMs: 10 });
    const outcome = await engine.evaluateReadings(series('dev-1', 0, 6, 85));
    expect(outcome.opened).toBe(1);
    expect([...store.active.keys()]).toEqual([key]);
    const warnings = log.at(40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ alertKeys: [key], code: '57P01' });
    expect(log.at(30).some((l) => l.msg.startsWith('alert evaluation works again'))).toBe(true);
    // The tracker moved on only once the write landed: more breach readings repeat, they do not re-open.
    expect((await engine.evaluateReadings(series('dev-1', 6, 7, 85))).opened).toBe(0);
  });

  it('does not apply a batch twice when its commit landed but the answer was lost', async () => {
    const store = fakeStore();
    let calls = 0;
    store.beforeRaise = async (_events, apply) => {
      if (calls++ === 0) {
        apply();
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      }
    };
    const engine = createAlertEngine({ store, rules, retryDelayMs: 10 });
    await engine.evaluateReadings(series('dev-1', 0, 4, 85));
    const outcome = await engine.evaluateReadings([
      ...series('dev-1', 4, 6, 85), // opens at 5 min
      ...series('dev-1', 6, 12, 70), // clears at 8 min
      ...series('dev-1', 12, 18, 90), // opens again at 17 min
    ]);
    expect(outcome).toMatchObject({ opened: 0, cleared: 0, replayed: 3 });
    expect(store.active.get(key)).toMatchObject({ status: 'open' });
    expect(store.active.get(key)!.opened_at!.getTime()).toBe(base + 17 * minute);
    expect(store.active.get(key)!.evidence).toMatchObject({ value: 90 });
  });

  it('rejects after a permanent write error, naming the alert keys, and keeps the trackers as before the batch', async () => {
    const store = fakeStore();
    let failures = 0;
    store.beforeRaise = async () => {
      if (failures++ === 0)
        throw Object.assign(new Error('new row violates check constraint'), { code: '23514' });
    };
    const log = captureLogger();
    const engine = createAlertEngine({ store, rules, logger: log.logger });
    await expect(engine.evaluateReadings(series('dev-1', 0, 6, 85))).rejects.toThrow(/check constraint/);
    expect(log.at(50)).toHaveLength(1);
    expect(log.at(50)[0]).toMatchObject({ alertKeys: [key] });
    expect(store.active.size).toBe(0);
    // Evaluated again, the same readings give the same open: nothing was half-applied.
    expect((await engine.evaluateReadings(series('dev-1', 0, 6, 85))).opened).toBe(1);
  });

  it('stop() waits for queued evaluations, then refuses new ones', async () => {
    const store = fakeStore();
    store.beforeRaise = () => new Promise((r) => setTimeout(r, 30));
    const engine = createAlertEngine({ store, rules });
    const results: RaiseOutcome[] = [];
    const devices = ['dev-1', 'dev-2', 'dev-3'];
    const written = devices.map((d) =>
      engine.evaluateReadings(series(d, 0, 6, 85)).then((o) => results.push(o)),
    );
    await engine.stop();
    expect(results).toHaveLength(3);
    expect(store.active.size).toBe(3);
    await Promise.all(written);
    await expect(engine.evaluateReadings(series('dev-4', 0, 6, 85))).rejects.toThrow(
      /alert engine is stopped/,
    );
  });

  it('stop() gives up on a write still failing at its timeout and logs the keys', async () => {
    const store = fakeStore();
    store.beforeRaise = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    };
    const log = captureLogger();
    const engine = createAlertEngine({ store, rules, logger: log.logger, retryDelayMs: 20 });
    const first = engine.evaluateReadings(series('dev-1', 0, 6, 85));
    const second = engine.evaluateReadings(series('dev-2', 0, 6, 85));
    await engine.stop(300);
    await expect(first).rejects.toThrow(/alert engine is stopped/);
    await expect(second).rejects.toThrow(/alert engine is stopped/);
    expect(log.at(40)).toHaveLength(1); // one warning for the outage, not one per attempt
    expect(log.at(50).some((l) => (l.alertKeys as string[] | undefined)?.includes(key))).toBe(true);
  });

  it('holds producers back once maxQueued batches wait (queueReadings resolves when there is a place)', async () => {
    const store = fakeStore();
    const releases: Array<() => void> = [];
    store.beforeRaise = () => new Promise<void>((r) => releases.push(r));
    const engine = createAlertEngine({ store, rules, maxQueued: 2 });
    const a = await engine.queueReadings(series('dev-1', 0, 6, 85));
    const b = await engine.queueReadings(series('dev-2', 0, 6, 85));
    let admitted = false;
    const c = engine.queueReadings(series('dev-3', 0, 6, 85)).then((t) => {
      admitted = true;
      return t;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(engine.queued).toBe(3);
    expect(admitted).toBe(false);
    releases.shift()!();
    await a.written;
    const third = await c;
    expect(admitted).toBe(true);
    while (releases.length < 1) await new Promise((r) => setTimeout(r, 5));
    releases.shift()!();
    await b.written;
    while (releases.length < 1) await new Promise((r) => setTimeout(r, 5));
    releases.shift()!();
    expect((await third.written).opened).toBe(1);
    await engine.whenIdle();
    expect(engine.queued).toBe(0);
  });
});
