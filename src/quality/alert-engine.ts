import { setTimeout as sleep } from 'node:timers/promises';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { isRetriableDbError, type Knex } from '../db/index.ts';
import type { Logger } from '../observability/index.ts';
import { type AlertEvent, alertKey, emptyOutcome, type RaiseOutcome } from './alert-events.ts';
import { type AlertRule, type HeartbeatRule, loadAlertRules, type ThresholdRule } from './alert-rules.ts';
import { type AlertStore, knexAlertStore } from './alert-store.ts';
import type { DeviceInfo } from './device-context.ts';
import { SerialQueue } from './serial-queue.ts';
import { activeState, applyReading, normalState, type ThresholdState } from './threshold-tracker.ts';

/** One reading to evaluate, in the metric's canonical unit (as dw.fact_sensor_reading stores it). */
export interface AlertReading {
  deviceId: string;
  metric: string;
  value: number;
  ts: Date | string | number;
  unit?: string;
}

export interface AlertEngineOptions {
  /** The hub database; or give `store` instead (tests). */
  knex?: Knex;
  /** Reads and writes of the engine; defaults to knexAlertStore(knex). */
  store?: AlertStore;
  /** The rules, or the path of a rules file (connectors/alert-rules.yaml). */
  rules: readonly AlertRule[] | string;
  logger?: Logger;
  /** How long device ranges and intervals are cached before dw.dim_device is read again. @defaultValue 60 s */
  deviceCacheMs?: number;
  /** Seed heartbeat last-seen times from the last day of dw.fact_sensor_reading. @defaultValue true */
  seedLastSeen?: boolean;
  /** Written into evidence as `detector`, shown in the incident. @defaultValue 'alert-rules-1' */
  detectorVersion?: string;
  /** Evaluations waiting or running before queueReadings (and evaluateReadings) wait for a place. @defaultValue 8 */
  maxQueued?: number;
  /** Back-off of an evaluation retried after a transient database error: first wait and cap. @defaultValue 250 ms, 10 s */
  retryDelayMs?: number;
  retryMaxDelayMs?: number;
}

export interface AlertEngine {
  readonly rules: readonly AlertRule[];
  /**
   * Runs the threshold rules over readings (any order within the batch; each device and metric is applied in
   * time order, and readings older than one already applied are ignored) and writes the resulting opens,
   * escalations and clears to hub.alert. Batches are evaluated one after another in call order, so concurrent
   * calls give the state a serial run would. A reading from a device whose heartbeat alert is open clears it.
   * Devices without a current dw.dim_device row, or without the range a rule needs, are skipped for that rule.
   *
   * Resolves with what was written, once it is committed; transient database errors are retried with back-off
   * meanwhile (later batches wait). Rejects after a permanent error (logged with the alert keys concerned; the
   * trackers keep their state from before the batch) or when the engine is stopped.
   */
  evaluateReadings(readings: readonly AlertReading[]): Promise<RaiseOutcome>;
  /**
   * The same, in two steps: resolves once the batch has a place in the queue (at most `maxQueued` batches wait
   * or run; await this to apply back-pressure without waiting for the write), with `written` settling as
   * evaluateReadings would. A rejection of `written` is logged by the engine, so it may be left unobserved.
   */
  queueReadings(readings: readonly AlertReading[]): Promise<{ written: Promise<RaiseOutcome> }>;
  /** Opens heartbeat-loss alerts for devices silent for too long at `now`. Call it periodically; queued like a batch. */
  checkHeartbeats(now?: Date): Promise<RaiseOutcome>;
  /** Batches waiting or running. */
  readonly queued: number;
  /** Resolves once every queued evaluation has finished (written, or failed for good). */
  whenIdle(): Promise<void>;
  /**
   * Refuses new evaluations and waits up to `timeoutMs` for the queued ones. What is still queued then is
   * rejected and logged as an error; a write being retried gives up. Idempotent.
   */
  stop(timeoutMs?: number): Promise<void>;
}

interface Pending {
  event: AlertEvent;
  /** Raises are checked against open maintenance work orders of the device at this time. */
  at?: Date;
  /** Asks to un-suppress an alert: dropped while the device is still under maintenance. */
  unsuppress?: boolean;
}

/** What an evaluation attempt got to, for the log lines of a failure. */
interface Scope {
  devices: string[];
  keys: string[];
}

/**
 * Tracker changes of one evaluation, applied to the engine's trackers only once hub.alert has the events they
 * correspond to. Until then the committed trackers are untouched, so a failed write can simply be evaluated
 * again from the same starting point.
 */
class StagedStates {
  readonly #committed: Map<string, ThresholdState>;
  readonly #changes = new Map<string, ThresholdState | null>();

  constructor(committed: Map<string, ThresholdState>) {
    this.#committed = committed;
  }

  /** The key's state as this evaluation sees it: a private copy, free to change. */
  get(key: string): ThresholdState | undefined {
    const changed = this.#changes.get(key);
    if (changed !== undefined) return changed ?? undefined;
    const committed = this.#committed.get(key);
    if (!committed) return undefined;
    const copy = { ...committed };
    this.#changes.set(key, copy);
    return copy;
  }

  set(key: string, state: ThresholdState): void {
    this.#changes.set(key, state);
  }

  delete(key: string): void {
    this.#changes.set(key, null);
  }

  commit(): void {
    for (const [key, state] of this.#changes) {
      if (state === null) this.#committed.delete(key);
      else this.#committed.set(key, state);
    }
  }
}

class EngineStoppedError extends Error {
  constructor(what: string) {
    super(`the alert engine is stopped; ${what} (stop() was called, e.g. on hub shutdown)`);
    this.name = 'EngineStoppedError';
  }
}

const tracer = trace.getTracer('iot-hub');
/** Keys and devices listed in a log line; the rest are counted. */
const listed = 20;

/**
 * Creates the alert engine: threshold rules with flapping suppression, heartbeat loss and maintenance
 * suppression, feeding hub.alert through raiseAlerts. Evaluations run one at a time, in call order; tracker
 * state advances only after hub.alert has the events (a write that fails leaves it as it was). State for
 * breaches not yet long enough lives in memory (a restart delays an open by at most one `for`); open alerts
 * are read back from hub.alert.
 */
export function createAlertEngine(options: AlertEngineOptions): AlertEngine {
  const store = options.store ?? (options.knex ? knexAlertStore(options.knex) : null);
  if (!store) throw new Error('createAlertEngine needs `knex` (the hub database) or a `store`');
  const logger = options.logger;
  const rules = typeof options.rules === 'string' ? loadAlertRules(options.rules) : [...options.rules];
  const thresholdRules = rules.filter((r): r is ThresholdRule => r.kind === 'threshold');
  const heartbeatRules = rules.filter((r): r is HeartbeatRule => r.kind === 'heartbeat');
  const rulesByMetric = new Map<string, ThresholdRule[]>();
  for (const rule of thresholdRules)
    rulesByMetric.set(rule.metric, [...(rulesByMetric.get(rule.metric) ?? []), rule]);
  const detector = options.detectorVersion ?? 'alert-rules-1';
  const cacheMs = options.deviceCacheMs ?? 60_000;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const retryMaxDelayMs = options.retryMaxDelayMs ?? 10_000;
  const devices = new Map<string, { info: DeviceInfo | null; loadedAt: number }>();
  /** Committed tracker state: matches what hub.alert holds. */
  const states = new Map<string, ThresholdState>();
  /** Devices whose active alerts were read from hub.alert into `states`. */
  const statesLoaded = new Set<string>();
  const lastSeen = new Map<string, number>();
  let lastSeenSeeded = options.seedLastSeen === false;
  const queue = new SerialQueue<RaiseOutcome>(options.maxQueued ?? 8);
  let stopped = false;
  let stopping: Promise<void> | null = null;
  const abort = new AbortController();
  /** The database outage being retried through, if any: one warning when it starts, one line when it ends. */
  let outage: { since: number; attempts: number } | null = null;

  async function deviceInfo(ids: readonly string[]): Promise<Map<string, DeviceInfo | null>> {
    const now = Date.now();
    const stale = ids.filter((id) => {
      const cached = devices.get(id);
      return !cached || now - cached.loadedAt > cacheMs;
    });
    if (stale.length > 0) {
      const loaded = await store!.devices(stale);
      for (const id of stale) devices.set(id, { info: loaded.get(id) ?? null, loadedAt: now });
    }
    return new Map(ids.map((id) => [id, devices.get(id)?.info ?? null]));
  }

  /** Seeds the trackers of devices seen for the first time with their alerts in hub.alert (committed truth). */
  async function loadStates(ids: readonly string[]): Promise<void> {
    const missing = ids.filter((id) => !statesLoaded.has(id));
    if (missing.length === 0) return;
    for (const a of await store!.activeAlerts({ devices: missing })) {
      states.set(
        a.alertKey,
        activeState(a.openedAt.getTime(), a.status === 'escalated', a.status === 'suppressed'),
      );
    }
    for (const id of missing) statesLoaded.add(id);
  }

  function limitOf(rule: ThresholdRule, info: DeviceInfo | null): number | null {
    if (typeof rule.limit === 'number') return rule.limit;
    if (!info) return null;
    // A device's range is its primary metric's: a vibration sensor's 0–50 mm/s says nothing about temperature.
    if (info.rangeMetrics && !info.rangeMetrics.includes(rule.metric)) return null;
    return rule.limit === 'device.range_max' ? info.rangeMax : info.rangeMin;
  }

  /**
   * Marks raises of devices under maintenance as suppressed (dropping un-suppress requests for them), writes
   * everything through raiseAlerts in one transaction, then commits the staged tracker changes.
   */
  async function write(
    pending: Pending[],
    staged: StagedStates,
    replay: boolean,
    scope: Scope,
  ): Promise<RaiseOutcome> {
    if (pending.length === 0) {
      staged.commit();
      return emptyOutcome();
    }
    scope.keys = [...new Set(pending.map((p) => alertKey(p.event.deviceId, p.event.metric, p.event.rule)))];
    const raises = pending.filter((p) => p.event.kind === 'raise' && p.at);
    let inMaintenance = new Set<string>();
    if (raises.length > 0) {
      const at = new Date(Math.max(...raises.map((p) => p.at!.getTime())));
      inMaintenance = await store!.devicesInMaintenance(
        [...new Set(raises.map((p) => p.event.deviceId))],
        at,
      );
    }
    const events: AlertEvent[] = [];
    for (const p of pending) {
      if (p.event.kind === 'raise') {
        const maintenance = inMaintenance.has(p.event.deviceId);
        if (p.unsuppress && maintenance) continue;
        p.event.suppressed = maintenance;
        const state = staged.get(alertKey(p.event.deviceId, p.event.metric, p.event.rule));
        if (state) state.suppressed = maintenance;
      }
      events.push(p.event);
    }
    const outcome = await store!.raise(events, { replay });
    staged.commit();
    logger?.debug({ outcome }, 'alert events written');
    return outcome;
  }

  async function evaluateOnce(
    readings: readonly AlertReading[],
    replay: boolean,
    scope: Scope,
  ): Promise<RaiseOutcome> {
    const sorted: Array<{ deviceId: string; metric: string; value: number; unit?: string; at: number }> = [];
    for (const r of readings) {
      const at = typeof r.ts === 'number' ? r.ts : r.ts instanceof Date ? r.ts.getTime() : Date.parse(r.ts);
      if (Number.isFinite(at) && Number.isFinite(r.value))
        sorted.push({ deviceId: r.deviceId, metric: r.metric, value: r.value, unit: r.unit, at });
    }
    sorted.sort((a, b) => a.at - b.at);
    const ids = [...new Set(sorted.map((r) => r.deviceId))];
    scope.devices = ids;
    const info = await deviceInfo(ids);
    await loadStates(ids);
    const staged = new StagedStates(states);
    const pending: Pending[] = [];
    const unsuppressAsked = new Set<string>();
    for (const r of sorted) {
      if (r.at > (lastSeen.get(r.deviceId) ?? 0)) lastSeen.set(r.deviceId, r.at);
      for (const hb of heartbeatRules) {
        const key = alertKey(r.deviceId, null, hb.name);
        if (staged.get(key)?.phase === 'active') {
          staged.delete(key);
          pending.push({
            event: {
              kind: 'clear',
              deviceId: r.deviceId,
              rule: hb.name,
              metric: null,
              at: new Date(r.at),
              evidence: { reading_at: new Date(r.at).toISOString() },
            },
          });
        }
      }
      const metricRules = rulesByMetric.get(r.metric);
      if (!metricRules) continue;
      const deviceRow = info.get(r.deviceId) ?? null;
      for (const rule of metricRules) {
        const limit = limitOf(rule, deviceRow);
        if (limit === null) continue;
        const key = alertKey(r.deviceId, r.metric, rule.name);
        let state = staged.get(key);
        if (!state) {
          state = normalState();
          staged.set(key, state);
        }
        const decision = applyReading(rule, state, r.at, r.value, limit);
        if (decision.action === 'none') continue;
        if (decision.action === 'breach' && !(state.suppressed && !unsuppressAsked.has(key))) continue;
        const at = new Date(r.at);
        const evidence = {
          value: r.value,
          threshold: limit,
          direction: rule.direction,
          unit: r.unit ?? null,
          window: `${Math.round(rule.forMs / 1000)}s`,
          at: at.toISOString(),
          detector,
        };
        const base = {
          kind: 'raise' as const,
          deviceId: r.deviceId,
          rule: rule.name,
          metric: r.metric,
          at,
          assetId: deviceRow?.assetId ?? null,
        };
        switch (decision.action) {
          case 'open':
            pending.push({
              event: {
                ...base,
                severity: decision.severe ? 'fail' : rule.severity,
                evidence: { ...evidence, breach_since: new Date(decision.breachSince).toISOString() },
              },
              at,
            });
            break;
          case 'escalate':
            pending.push({
              event: {
                ...base,
                severity: 'fail',
                escalate: true,
                evidence: { ...evidence, escalation: decision.reason },
              },
              at,
            });
            break;
          case 'clear':
            pending.push({
              event: {
                kind: 'clear',
                deviceId: r.deviceId,
                rule: rule.name,
                metric: r.metric,
                at,
                evidence: { ...evidence, recovered_since: new Date(decision.recoveredSince).toISOString() },
              },
            });
            break;
          case 'breach':
            unsuppressAsked.add(key);
            pending.push({ event: { ...base, severity: rule.severity, evidence }, at, unsuppress: true });
            break;
        }
      }
    }
    return write(pending, staged, replay, scope);
  }

  async function heartbeatsOnce(now: Date, replay: boolean, scope: Scope): Promise<RaiseOutcome> {
    if (!lastSeenSeeded) {
      for (const [id, ts] of await store!.lastReadingTimes(now)) {
        if (!lastSeen.has(id)) lastSeen.set(id, ts);
      }
      lastSeenSeeded = true;
    }
    const ids = [...lastSeen.keys()];
    scope.devices = ids;
    const info = await deviceInfo(ids);
    const staged = new StagedStates(states);
    const pending: Pending[] = [];
    for (const hb of heartbeatRules) {
      const open = await store!.activeAlerts({ rule: hb.name });
      const openSet = new Set(open.map((a) => a.deviceId));
      for (const id of ids) {
        const key = alertKey(id, null, hb.name);
        if (openSet.has(id)) {
          if (!staged.get(key)) staged.set(key, activeState(now.getTime(), false, false));
          continue;
        }
        const interval = info.get(id)?.expectedIntervalMs ?? hb.defaultIntervalMs;
        const seen = lastSeen.get(id)!;
        if (interval === null || now.getTime() - seen <= hb.missedIntervals * interval) continue;
        staged.set(key, activeState(now.getTime(), false, false));
        pending.push({
          event: {
            kind: 'raise',
            deviceId: id,
            rule: hb.name,
            metric: null,
            severity: hb.severity,
            at: now,
            assetId: info.get(id)?.assetId ?? null,
            evidence: {
              last_seen: new Date(seen).toISOString(),
              expected_interval_s: interval / 1000,
              missed_intervals: hb.missedIntervals,
              silent_for_s: Math.round((now.getTime() - seen) / 1000),
              window: `${Math.round((hb.missedIntervals * interval) / 1000)}s`,
              detector,
            },
          },
          at: now,
        });
      }
    }
    return write(pending, staged, replay, scope);
  }

  /**
   * Runs one evaluation to its end: a transient database error is retried with capped exponential back-off
   * (the first attempt after an error writes with `replay`, so a batch whose COMMIT did land is not applied
   * twice); a permanent one, or the stop deadline, rejects.
   */
  async function withRetry(
    what: string,
    attempt: (replay: boolean, scope: Scope) => Promise<RaiseOutcome>,
  ): Promise<RaiseOutcome> {
    const scope: Scope = { devices: [], keys: [] };
    for (let failures = 0; ; failures++) {
      try {
        const outcome = await attempt(failures > 0, scope);
        if (outage) {
          logger?.info(
            { failedAttempts: outage.attempts, seconds: Math.round((Date.now() - outage.since) / 1000) },
            'alert evaluation works again; the batches held back are being written',
          );
          outage = null;
        }
        return outcome;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        const details = {
          err: err.message,
          code: (err as { code?: unknown }).code,
          alertKeys: scope.keys.slice(0, listed),
          alertKeyCount: scope.keys.length,
          devices: scope.devices.slice(0, listed),
          deviceCount: scope.devices.length,
        };
        if (!isRetriableDbError(err) || abort.signal.aborted) {
          logger?.error(
            details,
            abort.signal.aborted
              ? `${what}: given up at stop; these alert keys keep their previous state in hub.alert`
              : `${what} failed and will not be retried; these alert keys keep their previous state (fix the cause; the next readings of these devices are evaluated normally)`,
          );
          throw err;
        }
        if (!outage) {
          outage = { since: Date.now(), attempts: 0 };
          logger?.warn(
            details,
            `${what} failed on a database error; retrying with back-off until PostgreSQL answers (later batches wait; one line when it recovers)`,
          );
        } else {
          logger?.debug(details, `${what} failed again; retrying`);
        }
        outage.attempts += 1;
        const delay = Math.min(retryMaxDelayMs, retryDelayMs * 2 ** Math.min(failures, 16));
        try {
          await sleep(delay * (0.75 + Math.random() / 2), undefined, { signal: abort.signal });
        } catch {
          logger?.error(details, `${what}: given up at stop; these alert keys keep their previous state`);
          throw new EngineStoppedError(`${what} was not written`);
        }
      }
    }
  }

  /** Queues an evaluation in the caller's trace context, under a span of its own. */
  function enqueue(
    what: string,
    attributes: Record<string, number>,
    attempt: (replay: boolean, scope: Scope) => Promise<RaiseOutcome>,
  ) {
    if (stopped) {
      const err = new EngineStoppedError(`${what} refused`);
      return { admitted: Promise.resolve(), done: Promise.reject(err) };
    }
    const caller = context.active();
    const task = queue.push(() =>
      context.with(caller, () =>
        tracer.startActiveSpan(`alerts ${what}`, { attributes }, async (span) => {
          try {
            const outcome = await withRetry(what, attempt);
            span.setAttributes({
              'iot_hub.alerts.opened': outcome.opened,
              'iot_hub.alerts.cleared': outcome.cleared,
              'iot_hub.alerts.escalated': outcome.escalated,
            });
            return outcome;
          } catch (e) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
            throw e;
          } finally {
            span.end();
          }
        }),
      ),
    );
    // Logged by withRetry; callers that only await admission must not cause an unhandled rejection.
    task.done.catch(() => {});
    return task;
  }

  async function queueReadings(
    readings: readonly AlertReading[],
  ): Promise<{ written: Promise<RaiseOutcome> }> {
    if (readings.length === 0 && !stopped) return { written: Promise.resolve(emptyOutcome()) };
    const task = enqueue(
      'evaluate readings',
      { 'iot_hub.alerts.readings': readings.length },
      (replay, scope) => evaluateOnce(readings, replay, scope),
    );
    await task.admitted;
    return { written: task.done };
  }

  return {
    rules,
    queueReadings,

    async evaluateReadings(readings) {
      return (await queueReadings(readings)).written;
    },

    async checkHeartbeats(now = new Date()) {
      if (heartbeatRules.length === 0 && !stopped) return emptyOutcome();
      const task = enqueue('check heartbeats', {}, (replay, scope) => heartbeatsOnce(now, replay, scope));
      await task.admitted;
      return task.done;
    },

    get queued() {
      return queue.length;
    },

    whenIdle: () => queue.whenIdle(),

    stop(timeoutMs = 10_000) {
      stopped = true;
      stopping ??= (async () => {
        const timer = sleep(timeoutMs, 'timeout' as const, { ref: false });
        const ended = await Promise.race([queue.whenIdle().then(() => 'idle' as const), timer]);
        if (ended === 'idle') return;
        abort.abort();
        const dropped = queue.dropWaiting(new EngineStoppedError('the batch was not evaluated'));
        logger?.error(
          { notEvaluated: dropped, timeoutMs },
          'alert engine stopped before every queued batch was evaluated; alerts of those readings may open late (on the next readings) or not at all',
        );
      })();
      return stopping;
    },
  };
}
