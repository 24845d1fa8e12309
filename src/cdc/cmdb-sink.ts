import { randomUUID } from 'node:crypto';
import type { HubConfig } from '../config/index.ts';
import { createKnex, type Knex } from '../db/index.ts';
import { RecoveringCondition, ServiceNowError } from '../itsm/index.ts';
import { componentLogger, counter, gauge, type Logger } from '../observability/index.ts';
import { IreClient, type IreItem, type IreItemResult } from './cmdb-sink-client.ts';
import { type ClaimedDevice, CmdbSinkStore } from './cmdb-sink-store.ts';

// The ServiceNow CMDB sink (docs/servicenow-cmdb.md): devices from dw.dim_device with their state from
// hub.device_state, upserted as CIs through IRE in batches.

const itemsTotal = counter('hub_cmdb_sink_items_total', 'CMDB sink items by outcome (synced, failed)', [
  'outcome',
]);
const callsTotal = counter(
  'hub_cmdb_sink_calls_total',
  'IRE calls of the CMDB sink by outcome (ok, rejected, failed)',
  ['outcome'],
);
const pendingDevices = gauge(
  'hub_cmdb_sink_pending',
  'Devices whose CI values differ from those IRE accepted',
);
const failedDevices = gauge('hub_cmdb_sink_failed', 'Pending devices whose last CMDB sync attempt failed');
const lagSeconds = gauge(
  'hub_cmdb_sink_lag_seconds',
  'Seconds since the stalest pending device was last in sync with the CMDB',
);

export interface CmdbSinkPassResult {
  synced: number;
  failed: number;
  calls: number;
  /** The pass stopped early: ServiceNow is down or refuses every call (auth, role); the rest waits. */
  stoppedEarly: boolean;
}

export interface CmdbSinkOptions {
  logger?: Logger;
  /** A pool of the caller's; otherwise the sink opens (and closes) its own. */
  knex?: Knex;
  /** Names this process in leases; random by default. */
  owner?: string;
}

/** The running loop, with `runPass` for a pass now (`iot-hub cmdb sync`, tests). */
export interface RunningCmdbSink {
  runPass(): Promise<CmdbSinkPassResult>;
  stop(): Promise<void>;
}

/** IRE answers with only ABANDONED errors are sent again without the failing items, at most this often. */
const maxResends = 3;

/** The sink without its timer: one pass claims every due device, sends it and records the outcome. */
export class CmdbSink {
  readonly #store: CmdbSinkStore;
  readonly #client: IreClient;
  readonly #settings: HubConfig['cmdbSink'];
  readonly #owner: string;
  readonly #logger: Logger;

  constructor(config: HubConfig, knex: Knex, options: { logger: Logger; owner?: string }) {
    this.#settings = config.cmdbSink;
    this.#owner = options.owner ?? `${config.instance}-${randomUUID()}`;
    this.#logger = options.logger;
    this.#store = new CmdbSinkStore(knex, {
      lastSeenResolutionSeconds: config.cmdbSink.lastSeenResolutionSeconds,
    });
    this.#client = new IreClient({
      url: config.servicenow.url,
      auth: config.servicenow.auth,
      timeoutMs: config.cmdbSink.requestTimeoutMs,
      callsPerSecond: config.cmdbSink.callsPerSecond,
      availability: new RecoveringCondition({
        logger: options.logger,
        name: 'ServiceNow',
        startMessage:
          'ServiceNow IRE is failing (unreachable, 5xx, 429 or a maintenance page); CMDB sync waits and retries',
        endMessage: 'ServiceNow IRE answers again; CMDB sync goes on',
      }),
    });
  }

  get store(): CmdbSinkStore {
    return this.#store;
  }

  async runPass(): Promise<CmdbSinkPassResult> {
    const result: CmdbSinkPassResult = { synced: 0, failed: 0, calls: 0, stoppedEarly: false };
    await this.#store.addNewDevices();
    const claimSize = this.#settings.batchSize * 10;
    // Each device leaves the due set once sent (synced, or failed with a back-off), so this ends.
    while (!result.stoppedEarly) {
      const claimed = await this.#store.claim(this.#owner, claimSize, this.#leaseSeconds());
      if (claimed.length === 0) break;
      const shared = claimed.filter((d) => d.sharedSerialWith.length > 0);
      await this.#fail(
        result,
        shared.map((device) => ({
          device,
          error: `serial_number '${device.values.serial_number}' is also the serial of ${device.sharedSerialWith.join(', ')}: IRE identifies CIs by serial number and would merge these devices into one CI; correct the serial in MDM`,
        })),
      );
      const sendable = claimed.filter((d) => d.sharedSerialWith.length === 0);
      for (let at = 0; at < sendable.length; at += this.#settings.batchSize) {
        const batch = sendable.slice(at, at + this.#settings.batchSize);
        if (result.stoppedEarly) await this.#store.release(this.#owner, batch);
        else await this.#deliver(batch, result, 0);
      }
      if (claimed.length < claimSize) break;
    }
    await this.refreshMetrics();
    return result;
  }

  async refreshMetrics(): Promise<void> {
    const status = await this.#store.status(0);
    pendingDevices.set(status.pending);
    failedDevices.set(status.failed);
    lagSeconds.set(status.lagSeconds);
  }

  // Long enough for one claim's calls (10 batches, some split or resent) at the configured rate, each possibly
  // timing out. Should it run out anyway, another process may send a device again: IRE finds the same CI.
  #leaseSeconds(): number {
    const calls = 20;
    return (
      Math.ceil(calls * (this.#settings.requestTimeoutMs / 1000 + 1 / this.#settings.callsPerSecond)) + 60
    );
  }

  /**
   * Sends one batch and records each item's outcome. A 4xx for the whole call is split in halves until the
   * item that causes it stands alone with the error; items IRE only abandoned (another item failed) are sent
   * again without the failing ones; a 5xx, timeout or outage records the error on every item of the batch for
   * a later attempt and stops the pass.
   */
  async #deliver(batch: ClaimedDevice[], result: CmdbSinkPassResult, resends: number): Promise<void> {
    let answer: IreItemResult[];
    result.calls++;
    try {
      answer = await this.#client.identifyReconcile(batch.map(this.#item), this.#settings.dataSource);
    } catch (e) {
      const err =
        e instanceof ServiceNowError
          ? e
          : new ServiceNowError('network', String((e as Error)?.message ?? e), {
              method: 'POST',
              path: '/api/now/identifyreconcile',
            });
      const itemLevel = err.kind === 'rejected' && err.status !== 403;
      callsTotal.inc({ outcome: itemLevel ? 'rejected' : 'failed' });
      if (itemLevel && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.#deliver(batch.slice(0, half), result, resends);
        if (result.stoppedEarly) await this.#store.release(this.#owner, batch.slice(half));
        else await this.#deliver(batch.slice(half), result, resends);
        return;
      }
      if (!itemLevel) {
        result.stoppedEarly = true;
        this.#logger.warn(
          { err: err.message, kind: err.kind, items: batch.length },
          'CMDB sync call failed; the batch is retried later',
        );
      }
      await this.#fail(
        result,
        batch.map((device) => ({ device, error: err.message })),
      );
      return;
    }
    callsTotal.inc({ outcome: 'ok' });
    const synced: Array<{ device: ClaimedDevice; sysId: string }> = [];
    const failed: Array<{ device: ClaimedDevice; error: string }> = [];
    const abandoned: ClaimedDevice[] = [];
    for (const [index, device] of batch.entries()) {
      const item = answer[index] as IreItemResult;
      const errors = item.errors ?? [];
      if (item.errorCount === 0 && errors.length === 0) synced.push({ device, sysId: item.sysId });
      else if (errors.length > 0 && errors.every((x) => x.error === 'ABANDONED')) abandoned.push(device);
      else failed.push({ device, error: errors.map((x) => `${x.error}: ${x.message}`).join('; ') });
    }
    await this.#store.succeeded(this.#owner, synced);
    result.synced += synced.length;
    itemsTotal.inc({ outcome: 'synced' }, synced.length);
    if (failed.length > 0)
      this.#logger.warn(
        { items: failed.length, first: failed[0]?.error },
        'IRE refused CMDB items; they are retried with back-off',
      );
    await this.#fail(result, failed);
    if (abandoned.length === 0) return;
    // Abandoned only because another item failed: nothing of them was written; send them without it.
    if (failed.length > 0 && resends < maxResends) await this.#deliver(abandoned, result, resends + 1);
    else {
      const reason = answer[batch.indexOf(abandoned[0] as ClaimedDevice)]?.errors?.[0];
      await this.#fail(
        result,
        abandoned.map((device) => ({ device, error: `${reason?.error}: ${reason?.message}` })),
      );
    }
  }

  async #fail(
    result: CmdbSinkPassResult,
    failures: ReadonlyArray<{ device: ClaimedDevice; error: string }>,
  ): Promise<void> {
    if (failures.length === 0) return;
    await this.#store.failed(this.#owner, failures, {
      baseSeconds: this.#settings.retryBaseSeconds,
      maxSeconds: this.#settings.retryMaxSeconds,
    });
    result.failed += failures.length;
    itemsTotal.inc({ outcome: 'failed' }, failures.length);
  }

  #item = (device: ClaimedDevice): IreItem => ({
    className: this.#settings.className,
    values: device.values,
    sys_object_source_info: {
      source_name: this.#settings.dataSource,
      source_native_key: device.deviceId,
      ...(device.values.u_last_seen ? { source_recency_timestamp: device.values.u_last_seen } : {}),
    },
  });
}

/**
 * Starts the loop: a pass at once, then one every `cmdbSink.intervalSeconds` after the previous one ended.
 * A failing pass (PostgreSQL down) is logged and the next one tries again.
 */
export async function startCmdbSink(
  config: HubConfig,
  options: CmdbSinkOptions = {},
): Promise<RunningCmdbSink> {
  const logger = componentLogger(options.logger, 'cmdb-sink');
  const knex = options.knex ?? createKnex(config.database.url, { poolMax: 2, logger, name: 'cmdb-sink' });
  const sink = new CmdbSink(config, knex, { logger, owner: options.owner });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = sink
      .runPass()
      .then((r) => {
        if (r.synced > 0 || r.failed > 0) logger.info(r, 'CMDB sync pass');
      })
      .catch((err: unknown) => logger.warn({ err }, 'CMDB sync pass failed; the next pass retries'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, config.cmdbSink.intervalSeconds * 1000);
      });
  };
  tick();
  return {
    runPass: () => sink.runPass(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      if (!options.knex) await knex.destroy();
    },
  };
}
