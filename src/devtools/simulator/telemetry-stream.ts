import type { PlannedExcursion } from './excursions.ts';
import type { FaultRates } from './fault-rates.ts';
import type { Fleet, FleetDevice } from './fleet-types.ts';
import type { GroundTruthFault } from './ground-truth.ts';
import type { SentRecordFacts } from './ledger.ts';
import { breakJson } from './malformed-json.ts';
import { PendingQueue } from './pending-queue.ts';
import type { Random } from './random.ts';
import { createDeviceReadings, type DeviceReadings } from './series-faults.ts';
import type { EncodedMessage, VendorFormat } from './vendor-format.ts';

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;

/** One Kafka record to send, with what the ledger needs to know about it. */
export interface SimRecord {
  topic: string;
  /** The device id: a device's records share a partition, so its order is the order sent. */
  key: string;
  value: string;
  headers: Record<string, string>;
  /** Simulated instant the gateway sends it; realtime mode waits for it on the wall clock. */
  sendAtMs: number;
  /** Index in send order, also carried in the x-sim-seq header (an exact re-send keeps the original's). */
  seq: number;
  facts: SentRecordFacts;
}

export interface TelemetryPlan {
  fleet: Fleet;
  /** Vendor name → its format and the topic it is sent to. */
  formats: ReadonlyMap<string, { format: VendorFormat; topic: string }>;
  /** Regular readings fall in slots [startMs + k·interval, …) before endMs. */
  startMs: number;
  endMs: number;
  intervalMs: number;
  faults: FaultRates;
  random: Random;
  onFault: (fault: GroundTruthFault) => void;
  /** Planned process excursions (planExcursions); none when absent. */
  excursions?: readonly PlannedExcursion[];
}

interface DeviceRun {
  device: FleetDevice;
  format: VendorFormat;
  topic: string;
  readings: DeviceReadings;
  random: Random;
  /** Fixed offset of this device's clock inside each slot, so devices are not in lock step. */
  phaseMs: number;
  jitterMs: number;
  gapUntilMs: number;
  /** Out-of-order records of this device waiting to be sent, to count the newer ones that overtake them. */
  held: Set<Outgoing>;
  /** Measurements taken so far (the device's own sequence number). */
  measured: number;
  uniqueReadings: number;
}

interface Outgoing {
  run: DeviceRun;
  value: string;
  /** Set for an exact re-send: the original's x-sim-seq, so the copy is byte-identical. */
  seqHeader: number | null;
  message: EncodedMessage;
  invalid: SentRecordFacts['invalid'];
  duplicate: boolean;
  delivery: SentRecordFacts['delivery'];
  /** Out-of-order: valid records of the device with a later reading time sent while this one was held. */
  overtakenBy: number;
  /** Ground truth to emit once the record has its seq. */
  fault: ((seq: number, sendAtMs: number) => GroundTruthFault) | null;
}

/**
 * Yields the run's Kafka records in send order: one message per device and slot (per format), with every
 * fault of `plan.faults` applied, and held-back records (late, out-of-order, re-sends) released at the end
 * of the slot their send time falls in. A pure function of the plan. Message faults are exclusive and drawn
 * in this order: future, malformed, then late, out_of_order, and else on time (an on-time record may also
 * be re-sent as a duplicate).
 */
export function* generateTelemetry(plan: TelemetryPlan): Generator<SimRecord> {
  const { faults, intervalMs, startMs, endMs } = plan;
  const runs = plan.fleet.devices.map((device, index) => createRun(plan, device, index));
  const pending = new PendingQueue<Outgoing>();
  let seq = 0;

  const send = (o: Outgoing, sendAtMs: number): SimRecord => {
    const recordSeq = seq++;
    const header = o.seqHeader ?? recordSeq;
    if (o.fault) plan.onFault(o.fault(header, sendAtMs));
    if (o.invalid === null && !o.duplicate) o.run.uniqueReadings += o.message.metrics.length;
    o.run.held.delete(o);
    if (o.invalid === null) {
      for (const h of o.run.held) if (o.message.tsMs > h.message.tsMs) h.overtakenBy += 1;
    }
    if (o.delivery === 'out_of_order') {
      plan.onFault({
        kind: 'out_of_order',
        topic: o.run.topic,
        device_id: o.run.device.deviceId,
        ts: iso(o.message.tsMs),
        seq: header,
        overtaken_by: o.overtakenBy,
      });
    }
    return {
      topic: o.run.topic,
      key: o.run.device.deviceId,
      value: o.value,
      headers: { 'content-type': 'application/json', 'x-sim-seq': String(header) },
      sendAtMs,
      seq: recordSeq,
      facts: {
        topic: o.run.topic,
        deviceId: o.run.device.deviceId,
        registered: o.run.device.registered,
        invalid: o.invalid,
        duplicate: o.duplicate,
        delivery: o.delivery,
        tsMs: o.message.tsMs,
        metrics: o.message.metrics,
      },
    };
  };

  for (let slotMs = startMs; slotMs < endMs; slotMs += intervalMs) {
    for (const run of runs) {
      if (slotMs < run.gapUntilMs) continue;
      if (run.random.chance(faults.gap ?? 0)) {
        run.gapUntilMs = Math.min(endMs, slotMs + Math.round(run.random.between(20 * minuteMs, 4 * hourMs)));
        plan.onFault({
          kind: 'gap',
          device_id: run.device.deviceId,
          start: iso(slotMs),
          end: iso(run.gapUntilMs),
          missed_slots: Math.ceil((run.gapUntilMs - slotMs) / intervalMs),
        });
        continue;
      }
      const tsMs = slotMs + run.phaseMs + run.random.int(0, run.jitterMs);
      const messages = run.format.encode(run.device, tsMs, run.readings.read(tsMs), run.measured++);
      for (const message of messages) {
        const outgoing = decide(plan, run, message, slotMs);
        if (outgoing.releaseAtMs !== null) {
          pending.push(outgoing.releaseAtMs, outgoing.record);
          if (outgoing.record.delivery === 'out_of_order') run.held.add(outgoing.record);
          continue;
        }
        const sent = send(outgoing.record, tsMs);
        yield sent;
        if (outgoing.duplicateAtMs !== null) {
          // An exact re-send: same key, bytes and headers (x-sim-seq of the original included); only the
          // traceparent the sender adds is new, as for any send.
          pending.push(outgoing.duplicateAtMs, {
            ...outgoing.record,
            seqHeader: sent.seq,
            duplicate: true,
            fault: (s) => ({
              kind: 'duplicate',
              topic: run.topic,
              device_id: run.device.deviceId,
              ts: iso(message.tsMs),
              seq: s,
              readings: message.metrics.length,
            }),
          });
        }
      }
    }
    for (const [releaseAtMs, o] of pending.drain(slotMs + intervalMs)) {
      // Held back but nothing newer was sent meanwhile (a gap, or the newer ones were malformed): hold it
      // one more slot, so out of order always means overtaken by a valid newer record.
      if (o.delivery === 'out_of_order' && o.overtakenBy === 0) pending.push(releaseAtMs + intervalMs, o);
      else yield send(o, releaseAtMs);
    }
  }
  for (const [releaseAtMs, o] of pending.drain(Number.POSITIVE_INFINITY)) {
    // At the end of the window nothing newer will come: such a record simply arrives on time.
    if (o.delivery === 'out_of_order' && o.overtakenBy === 0) o.delivery = 'on_time';
    yield send(o, releaseAtMs);
  }

  for (const run of runs) {
    if (run.device.registered || run.uniqueReadings === 0) continue;
    plan.onFault({
      kind: 'unknown_device',
      topic: run.topic,
      device_id: run.device.deviceId,
      readings: run.uniqueReadings,
    });
  }
}

function createRun(plan: TelemetryPlan, device: FleetDevice, index: number): DeviceRun {
  const vendor = plan.formats.get(device.vendor);
  if (!vendor)
    throw new RangeError(`device ${device.deviceId} speaks '${device.vendor}', which has no format`);
  // Forked by position in the fleet, not by id: an id prefix renames the devices without changing a value.
  const random = plan.random.fork(`device/${index}`);
  return {
    device,
    format: vendor.format,
    topic: vendor.topic,
    readings: createDeviceReadings({
      device,
      startMs: plan.startMs,
      endMs: plan.endMs,
      faults: plan.faults,
      signalRandom: random.fork('signal'),
      faultRandom: random.fork('values'),
      onFault: plan.onFault,
      excursions: plan.excursions?.filter((e) => e.device_id === device.deviceId),
      excursionRandom: random.fork('excursions'),
    }),
    random: random.fork('messages'),
    phaseMs: Math.floor(random.between(0, 0.8) * plan.intervalMs),
    jitterMs: Math.floor(Math.min(2000, plan.intervalMs * 0.1)),
    gapUntilMs: Number.NEGATIVE_INFINITY,
    held: new Set(),
    measured: 0,
    uniqueReadings: 0,
  };
}

interface Decision {
  record: Outgoing;
  /** null: send now. */
  releaseAtMs: number | null;
  /** Set when the record is also re-sent, at this instant. */
  duplicateAtMs: number | null;
}

function decide(plan: TelemetryPlan, run: DeviceRun, message: EncodedMessage, slotMs: number): Decision {
  const { faults, intervalMs, endMs } = plan;
  const random = run.random;
  const slotEnd = (slots: number) => slotMs + slots * intervalMs + intervalMs - 1;
  const base: Outgoing = {
    run,
    value: JSON.stringify(message.payload),
    seqHeader: null,
    message,
    invalid: null,
    duplicate: false,
    delivery: 'on_time',
    overtakenBy: 0,
    fault: null,
  };
  const where = { topic: run.topic, device_id: run.device.deviceId };

  if (random.chance(faults.future ?? 0)) {
    // 1–30 days past the window's end: far beyond a mapping's future_skew (minutes) while the window ends
    // near now, so the pipeline must dead-letter it (a device clock that jumped ahead).
    const futureMs = Math.max(message.tsMs, endMs) + Math.round(random.between(1, 30) * dayMs);
    const payload = run.format.redate(message, futureMs);
    const record = { ...base, value: JSON.stringify(payload), invalid: 'future' as const };
    record.fault = (seq) => ({
      kind: 'future',
      ...where,
      ts: iso(futureMs),
      true_ts: iso(message.tsMs),
      seq,
    });
    return { record, releaseAtMs: null, duplicateAtMs: null };
  }
  if (random.chance(faults.malformed ?? 0)) {
    const brokenJson = random.chance(0.5);
    const broken = brokenJson
      ? breakJson(base.value, random)
      : (({ payload, detail }) => ({ value: JSON.stringify(payload), detail }))(
          run.format.breakSchema(message, random),
        );
    const variant = brokenJson ? ('broken_json' as const) : ('schema_invalid' as const);
    const record = { ...base, value: broken.value, invalid: variant };
    record.fault = (seq) => ({
      kind: 'malformed',
      variant,
      ...where,
      ts: iso(message.tsMs),
      seq,
      detail: broken.detail,
    });
    return { record, releaseAtMs: null, duplicateAtMs: null };
  }
  // Late by 1–6 h, but only where the window still runs that long, so every late record is sent in it.
  if (message.tsMs + hourMs <= endMs && random.chance(faults.late ?? 0)) {
    const lateByMs = Math.round(random.between(hourMs, Math.min(6 * hourMs, endMs - message.tsMs)));
    const record: Outgoing = { ...base, delivery: 'late' };
    record.fault = (seq, sendAtMs) => ({
      kind: 'late',
      ...where,
      ts: iso(message.tsMs),
      seq,
      late_by_s: Math.round((sendAtMs - message.tsMs) / 1000),
    });
    return { record, releaseAtMs: message.tsMs + lateByMs, duplicateAtMs: null };
  }
  if (random.chance(faults.out_of_order ?? 0)) {
    const record: Outgoing = { ...base, delivery: 'out_of_order' };
    return { record, releaseAtMs: slotEnd(random.int(1, 5)), duplicateAtMs: null };
  }
  const duplicateAtMs = random.chance(faults.duplicate ?? 0) ? slotEnd(random.int(0, 3)) : null;
  return { record: base, releaseAtMs: null, duplicateAtMs };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
