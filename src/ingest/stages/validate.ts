import type { HubMessage } from '../../kafka/index.ts';
import type { CompiledMapping, MappingInput, MappingRouter } from '../../mapping/index.ts';
import type { BatchLedger } from './batch-ledger.ts';

/** Limits on one message, so that one payload can never cost more than one dead letter. */
export interface PayloadLimits {
  /** Largest message value accepted, in bytes. @defaultValue 1 MiB */
  maxMessageBytes: number;
  /** Deepest nesting of JSON objects and arrays accepted. @defaultValue 64 */
  maxDepth: number;
}

export const defaultPayloadLimits: PayloadLimits = { maxMessageBytes: 1024 * 1024, maxDepth: 64 };

/** The records one mapping will map, with the inputs it maps them from. */
export interface MappingGroup {
  mapping: CompiledMapping;
  inputs: MappingInput[];
  records: HubMessage[];
}

/**
 * validate: bytes → JSON within the limits, then the mapping that accepts the record on its topic. Records that
 * fail become dead letters of the whole message; the others are grouped by mapping.
 */
export function validateRecords(
  records: readonly HubMessage[],
  router: MappingRouter,
  limits: PayloadLimits,
  ledger: BatchLedger,
): MappingGroup[] {
  const groups = new Map<CompiledMapping, MappingGroup>();
  for (const record of records) {
    const problem = payloadProblem(record.value, limits);
    if (problem) {
      ledger.deadMessage({ stage: 'validate', record, ...problem });
      continue;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(record.value!.toString('utf8'));
    } catch (err) {
      ledger.deadMessage({
        stage: 'validate',
        record,
        code: 'MALFORMED_PAYLOAD',
        message: `payload is not JSON: ${(err as Error).message}`,
      });
      continue;
    }
    const meta = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key?.toString() ?? null,
      timestamp: record.timestamp,
      headers: record.headers,
    };
    const mapping = router.route(payload, meta);
    if (!mapping) {
      const known = router.forTopic(record.topic).map((m) => `${m.id}@${m.version}`);
      ledger.deadMessage({
        stage: 'validate',
        record,
        code: 'NO_MAPPING',
        message: `no mapping accepts this record on topic ${record.topic}${known.length ? ` (tried ${known.join(', ')})` : '; add a mapping file whose source.topic is this topic'}`,
      });
      continue;
    }
    let group = groups.get(mapping);
    if (!group) {
      group = { mapping, inputs: [], records: [] };
      groups.set(mapping, group);
    }
    group.inputs.push({ payload, meta });
    group.records.push(record);
  }
  return [...groups.values()];
}

function payloadProblem(
  value: Buffer | null,
  limits: PayloadLimits,
): { code: string; message: string } | null {
  if (value === null) return { code: 'MALFORMED_PAYLOAD', message: 'the message has no value (a tombstone)' };
  if (value.length > limits.maxMessageBytes) {
    return {
      code: 'MESSAGE_TOO_LARGE',
      message: `the message is ${value.length} bytes, over the limit of ${limits.maxMessageBytes} (limits.max_message_bytes in connectors/telemetry.yaml)`,
    };
  }
  const depth = nestingDepth(value, limits.maxDepth);
  if (depth > limits.maxDepth) {
    return {
      code: 'NESTED_TOO_DEEP',
      message: `the payload nests objects and arrays more than ${limits.maxDepth} deep (limits.max_depth in connectors/telemetry.yaml)`,
    };
  }
  return null;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Nesting depth of JSON text, scanning bytes (strings skipped), stopping once past `limit`. Cheaper than
 * parsing, and it keeps a hostile depth away from every recursive function after JSON.parse.
 */
export function nestingDepth(bytes: Uint8Array, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return deepest;
}
