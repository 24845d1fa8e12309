import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { createKafka } from '../../kafka/index.ts';
import type { Fleet } from './fleet-types.ts';
import type { GroundTruth } from './ground-truth.ts';
import { sendRecords } from './kafka-sender.ts';
import { type LateDataBounds, lateDataBounds } from './late-data-bounds.ts';
import { LedgerCounter, type SimulationLedger } from './ledger.ts';
import { type SeedCmmsResult, seedCmms } from './seed-cmms.ts';
import { type SeedMdmResult, seedMdm } from './seed-mdm.ts';
import { type SeedWarehouseResult, seedWarehouseDimensions } from './seed-warehouse.ts';
import type { SimulateOptions } from './simulation-options.ts';
import { createSimulationRun, type SimulationRun } from './simulation-run.ts';
import type { SimRecord } from './telemetry-stream.ts';
import { vendorFormats } from './vendor-formats.ts';

const dayMs = 86_400_000;
/** How long after sending the pipeline may still be judging the records' timestamps. */
const ingestMarginMs = 3_600_000;

export interface SimulationResult {
  /** Counts of what reached Kafka; see SimulationLedger for the definitions. */
  ledger: SimulationLedger;
  groundTruth: GroundTruth;
  fleet: Fleet;
  /** Vendor → topic written to. */
  topics: Record<string, string>;
  mdm: SeedMdmResult | null;
  cmms: SeedCmmsResult | null;
  warehouse: SeedWarehouseResult | null;
  /** False when options.signal stopped the run early (the ledger covers what was sent). */
  completed: boolean;
  elapsedMs: number;
  groundTruthFile: string | null;
}

/**
 * Runs a simulation end to end: plans it (createSimulationRun), seeds the MDM database, a few CMMS work orders
 * and the warehouse dimensions (unless disabled), creates missing topics, sends every record to Kafka keyed by device id, and
 * writes the ground truth. The result's ledger counts what the broker acknowledged. Throws RangeError for
 * invalid options before anything is written, including a window the mappings' late_data would partly
 * dead-letter (older than max_lateness, or future-dated faults that would not be in the future); database and Kafka errors propagate (records already sent
 * stay in Kafka).
 */
export async function simulate(options: SimulateOptions = {}): Promise<SimulationResult> {
  const started = performance.now();
  const run = createSimulationRun(options);
  const bounds =
    options.lateData === undefined
      ? lateDataBounds(Object.keys(run.topics).map((v) => vendorFormats[v]!.mappingId))
      : options.lateData;
  if (bounds) checkWindow(run, bounds, options.faults?.future ?? 0);
  const needsConfig = !options.kafka || !options.databaseUrl;
  const config = needsConfig ? loadConfig() : null;
  const databaseUrl = options.databaseUrl ?? config!.database.url;
  const mdmServerUrl = options.mdmServerUrl ?? databaseUrl;

  const mdm = options.seedMdm === false ? null : await seedMdm(mdmServerUrl, run.fleet);
  const cmms =
    options.seedCmms === false
      ? null
      : await seedCmms(mdmServerUrl, {
          fleet: run.fleet,
          seed: options.seed ?? 1,
          startMs: run.startMs,
          endMs: run.endMs,
          avoidDevices: run.excursions.map((e) => e.device_id),
        });
  const warehouse =
    options.seedWarehouse === false ? null : await seedWarehouseDimensions(databaseUrl, run.fleet);

  await options.beforeSend?.(run.fleet);

  const kafka = createKafka({
    brokers: options.kafka?.brokers ?? config!.kafka.brokers,
    clientId: options.kafka?.clientId ?? 'iot-hub-simulator',
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.ensureTopics(
      [...new Set(Object.values(run.topics))].map((topic) => ({
        topic,
        partitions: options.partitions ?? 4,
      })),
    );
  } finally {
    await admin.disconnect();
  }

  const ledger = new LedgerCounter();
  const progress = createProgress(options, ledger);
  const producer = kafka.producer();
  await producer.connect();
  let completed: boolean;
  try {
    completed = await sendRecords(producer, run.records(), {
      batchSize: options.batchSize ?? 2000,
      rate: options.rate ?? null,
      realtime: options.realtime ?? false,
      compression: options.compression ?? 'none',
      signal: options.signal,
      onSent: progress.sent,
    });
  } finally {
    progress.stop();
    await producer.disconnect();
  }

  const finalLedger = ledger.snapshot();
  const groundTruth = run.groundTruth(finalLedger);
  const file = options.groundTruthFile ?? null;
  if (file) {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await writeFile(file, `${JSON.stringify(groundTruth, null, 1)}\n`);
  }
  return {
    ledger: finalLedger,
    groundTruth,
    fleet: run.fleet,
    topics: run.topics,
    mdm,
    cmms,
    warehouse,
    completed,
    elapsedMs: performance.now() - started,
    groundTruthFile: file,
  };
}

// The ledger calls every reading in the window valid and every future-dated one invalid; that holds only
// while the pipeline, judging by its own clock a little later, agrees (late_data in the mappings).
function checkWindow(run: SimulationRun, bounds: LateDataBounds, futureRate: number): void {
  const now = Date.now();
  if (bounds.maxLatenessMs !== null && run.startMs < now - bounds.maxLatenessMs + ingestMarginMs) {
    throw new RangeError(
      `the window starts ${new Date(run.startMs).toISOString()}, more than the mappings' max_lateness (${bounds.maxLatenessMs / dayMs} d) before now: the pipeline would dead-letter those readings as TOO_LATE. Shorten the duration or move the start.`,
    );
  }
  if (
    futureRate > 0 &&
    (run.endMs + dayMs < now + bounds.futureSkewMs + ingestMarginMs || bounds.futureSkewMs >= dayMs)
  ) {
    throw new RangeError(
      `faults: future-dated readings are dated 1–30 days after the window's end, which would not be beyond the mappings' future_skew (${bounds.futureSkewMs / 1000} s) by the hub's clock; end the window near now or drop future=`,
    );
  }
}

// Counts acknowledged records into the ledger and reports progress on a timer and once at the end.
function createProgress(options: SimulateOptions, ledger: LedgerCounter) {
  const started = performance.now();
  let messages = 0;
  let readings = 0;
  let lastTs: number | null = null;
  let reported = { at: started, messages: 0 };
  const report = (done: boolean) => {
    const now = performance.now();
    const seconds = (now - reported.at) / 1000;
    options.onProgress?.({
      messagesSent: messages,
      readingsSent: readings,
      messagesPerSecond: seconds > 0 ? (messages - reported.messages) / seconds : 0,
      elapsedMs: now - started,
      simulatedTime: lastTs === null ? null : new Date(lastTs).toISOString(),
      done,
    });
    reported = { at: now, messages };
  };
  const timer = options.onProgress
    ? setInterval(() => report(false), options.progressIntervalMs ?? 5000)
    : null;
  return {
    sent(records: readonly SimRecord[]) {
      for (const r of records) {
        ledger.count(r.facts);
        messages += 1;
        if (r.facts.invalid === null) readings += r.facts.metrics.length;
        lastTs = r.facts.tsMs;
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      report(true);
    },
  };
}
