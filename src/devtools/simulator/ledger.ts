/** Counts for one topic; the same definitions as the run's SimulationLedger. */
export interface TopicLedger {
  messages_sent: number;
  valid_messages: number;
  invalid_messages: number;
  readings_sent: number;
  unique_valid_readings: number;
  duplicate_readings: number;
  unknown_device_readings: number;
}

/**
 * What a simulation sent, counted so a pipeline run can be checked exactly:
 * fact rows = unique_valid_readings and dead letters = invalid_messages, nothing else.
 *
 * - messages_sent: Kafka records produced, all topics (= valid_messages + invalid_messages).
 * - valid_messages: records the telemetry mapping accepts (contract valid, timestamp within future_skew),
 *   duplicates, late and out-of-order ones and those of unknown devices included.
 * - invalid_messages: records that must each become exactly one dead letter: broken JSON
 *   (broken_json_messages), JSON that breaks the source contract (schema_invalid_messages) and readings
 *   dated in the future beyond the mapping's future_skew (future_messages).
 * - readings_sent: readings inside valid messages, re-sent duplicates included.
 * - unique_valid_readings: distinct (device, metric, timestamp) among those readings: the fact rows a correct
 *   load ends with. Unknown devices' readings count, since they load under an inferred device member.
 * - duplicate_messages / duplicate_readings: exact re-sends of valid messages and the readings inside them,
 *   which the load must ignore (readings_sent = unique_valid_readings + duplicate_readings).
 * - unknown_devices / unknown_device_readings: devices not in MDM and their unique valid readings.
 * - late_readings / out_of_order_readings: unique valid readings sent hours late / behind newer ones.
 * - first_reading_ts / last_reading_ts: range of the valid readings' timestamps (null when none).
 */
export interface SimulationLedger extends TopicLedger {
  broken_json_messages: number;
  schema_invalid_messages: number;
  future_messages: number;
  duplicate_messages: number;
  unknown_devices: number;
  late_readings: number;
  out_of_order_readings: number;
  first_reading_ts: string | null;
  last_reading_ts: string | null;
  /** Unique valid readings per metric code. */
  readings_by_metric: Record<string, number>;
  by_topic: Record<string, TopicLedger>;
}

/** What the ledger needs to know about one sent record. */
export interface SentRecordFacts {
  topic: string;
  deviceId: string;
  registered: boolean;
  /** null for a valid record. */
  invalid: 'broken_json' | 'schema_invalid' | 'future' | null;
  duplicate: boolean;
  delivery: 'on_time' | 'late' | 'out_of_order';
  tsMs: number;
  metrics: readonly string[];
}

/** Accumulates a SimulationLedger record by record, in send order. */
export class LedgerCounter {
  private readonly ledger: SimulationLedger = { ...emptyTopicLedger(), ...emptyTotals() };
  private readonly unknownDevices = new Set<string>();
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;

  count(r: SentRecordFacts): void {
    const topic = this.ledger.by_topic[r.topic] ?? emptyTopicLedger();
    this.ledger.by_topic[r.topic] = topic;
    const add = (key: keyof TopicLedger, n: number) => {
      this.ledger[key] += n;
      topic[key] += n;
    };
    add('messages_sent', 1);
    if (r.invalid !== null) {
      add('invalid_messages', 1);
      this.ledger[`${r.invalid}_messages`] += 1;
      return;
    }
    const n = r.metrics.length;
    add('valid_messages', 1);
    add('readings_sent', n);
    if (r.duplicate) {
      this.ledger.duplicate_messages += 1;
      add('duplicate_readings', n);
      return;
    }
    add('unique_valid_readings', n);
    if (!r.registered) {
      add('unknown_device_readings', n);
      this.unknownDevices.add(r.deviceId);
      this.ledger.unknown_devices = this.unknownDevices.size;
    }
    if (r.delivery === 'late') this.ledger.late_readings += n;
    if (r.delivery === 'out_of_order') this.ledger.out_of_order_readings += n;
    for (const metric of r.metrics) {
      this.ledger.readings_by_metric[metric] = (this.ledger.readings_by_metric[metric] ?? 0) + 1;
    }
    if (r.tsMs < this.first) this.first = r.tsMs;
    if (r.tsMs > this.last) this.last = r.tsMs;
  }

  /** A snapshot; counting may continue afterwards. */
  snapshot(): SimulationLedger {
    const copy = structuredClone(this.ledger);
    copy.first_reading_ts = Number.isFinite(this.first) ? new Date(this.first).toISOString() : null;
    copy.last_reading_ts = Number.isFinite(this.last) ? new Date(this.last).toISOString() : null;
    return copy;
  }
}

function emptyTopicLedger(): TopicLedger {
  return {
    messages_sent: 0,
    valid_messages: 0,
    invalid_messages: 0,
    readings_sent: 0,
    unique_valid_readings: 0,
    duplicate_readings: 0,
    unknown_device_readings: 0,
  };
}

function emptyTotals(): Omit<SimulationLedger, keyof TopicLedger> {
  return {
    broken_json_messages: 0,
    schema_invalid_messages: 0,
    future_messages: 0,
    duplicate_messages: 0,
    unknown_devices: 0,
    late_readings: 0,
    out_of_order_readings: 0,
    first_reading_ts: null,
    last_reading_ts: null,
    readings_by_metric: {},
    by_topic: {},
  };
}
