// A stand-in for a transactional system that consumes device.state (docs/architecture.md, "Device state and the
// outbox"): it applies each event once, deduplicating by the outbox row id Debezium's Event Router puts in the
// `id` header, and checks each device's events arrive in sequence. Its store is in memory: it exists to show
// (and test) what a real consumer must do with at-least-once delivery, not to be one.
import type { DeviceEvent } from '../device-state/index.ts';
import { createKafka, type HubConsumer, type HubMessage } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';

/** What became of one delivered message. */
export type PeerOutcome = 'applied' | 'duplicate' | 'out_of_order' | 'invalid';

export interface AppliedEvent {
  /** The outbox row id. */
  id: string;
  event: DeviceEvent;
}

/** A delivery the peer could not apply: an event out of sequence, or a message that is not an event. */
export interface PeerProblem {
  outcome: 'out_of_order' | 'invalid';
  deviceId: string | null;
  detail: string;
}

/**
 * The peer's store: events applied once by outbox id, and per device the last sequence number applied. An event
 * whose seq is not the device's last + 1 is refused (a real system would hold it back or alert).
 */
export class PeerLedger {
  readonly applied: AppliedEvent[] = [];
  readonly problems: PeerProblem[] = [];
  /** Deliveries of an event already applied (Kafka is at least once: a connector restart may resend). */
  duplicates = 0;
  private readonly seen = new Set<string>();
  private readonly lastSeq = new Map<string, number>();

  receive(id: string | undefined, key: string | null, value: string | null): PeerOutcome {
    if (!id || value === null)
      return this.refuse('invalid', key, 'a device.state message needs an id header and a value');
    if (this.seen.has(id)) {
      this.duplicates += 1;
      return 'duplicate';
    }
    let event: DeviceEvent;
    try {
      event = JSON.parse(value) as DeviceEvent;
    } catch (err) {
      return this.refuse('invalid', key, `event ${id} is not JSON: ${(err as Error).message}`);
    }
    if (typeof event?.device_id !== 'string' || !Number.isInteger(event.seq))
      return this.refuse('invalid', key, `event ${id} has no device_id or integer seq`);
    if (key !== null && key !== event.device_id)
      return this.refuse(
        'invalid',
        key,
        `event ${id} is keyed ${key} but is about device ${event.device_id}`,
      );
    const expected = (this.lastSeq.get(event.device_id) ?? 0) + 1;
    if (event.seq !== expected)
      return this.refuse(
        'out_of_order',
        event.device_id,
        `device ${event.device_id}: event ${id} (${event.type}) has seq ${event.seq}, expected ${expected}`,
      );
    this.seen.add(id);
    this.lastSeq.set(event.device_id, event.seq);
    // The Event Router leaves out JSON nulls when it expands the payload: an absent previous is null.
    this.applied.push({
      id,
      event: { ...event, previous: event.previous ?? null, value: event.value ?? null },
    });
    return 'applied';
  }

  /** The events applied for one device, in the order applied. */
  eventsOf(deviceId: string): DeviceEvent[] {
    return this.applied.filter((a) => a.event.device_id === deviceId).map((a) => a.event);
  }

  private refuse(outcome: 'out_of_order' | 'invalid', deviceId: string | null, detail: string): PeerOutcome {
    this.problems.push({ outcome, deviceId, detail });
    return outcome;
  }
}

export interface PeerOptions {
  brokers: string[];
  /** default device.state */
  topic?: string;
  groupId: string;
  logger?: Logger;
}

export interface RunningPeer {
  ledger: PeerLedger;
  /** Messages delivered, duplicates included. */
  delivered(): number;
  stop(): Promise<void>;
}

/** Consumes the device.state topic from its start into a PeerLedger until stopped. */
export async function startTransactionalPeer(options: PeerOptions): Promise<RunningPeer> {
  const topic = options.topic ?? 'device.state';
  const kafka = createKafka({
    brokers: options.brokers,
    clientId: 'transactional-peer',
    logger: options.logger,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Debezium creates the topic with its first event; the peer may start before that.
    await admin.ensureTopics([{ topic, partitions: 1 }]);
  } finally {
    await admin.disconnect();
  }
  const ledger = new PeerLedger();
  let delivered = 0;
  const consumer: HubConsumer = kafka.consumer({ groupId: options.groupId, fromBeginning: true });
  await consumer.connect();
  await consumer.subscribe([topic]);
  void consumer.run(async (batch, control) => {
    for (const m of batch.messages) {
      delivered += 1;
      const outcome = receiveMessage(ledger, m);
      if (outcome === 'out_of_order' || outcome === 'invalid')
        options.logger?.warn({ problem: ledger.problems.at(-1) }, 'transactional peer refused an event');
      control.resolveOffset(m.offset);
    }
  });
  return {
    ledger,
    delivered: () => delivered,
    async stop() {
      await consumer.stop();
      await consumer.disconnect();
    },
  };
}

function receiveMessage(ledger: PeerLedger, m: HubMessage): PeerOutcome {
  return ledger.receive(m.headers.id, m.key?.toString('utf8') ?? null, m.value?.toString('utf8') ?? null);
}
