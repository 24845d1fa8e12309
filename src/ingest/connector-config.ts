import { createRequire } from 'node:module';
import { loadYamlFile } from '../config/index.ts';
import { defaultPayloadLimits, type PayloadLimits } from './stages/validate.ts';

const require = createRequire(import.meta.url);
/** connectors/telemetry.schema.json; connectors/telemetry.yaml names it for editors too. */
const schema = require('../../connectors/telemetry.schema.json') as object;

/** connectors/telemetry.yaml: the telemetry ingest's topics, consumer group and mappings folder. */
export interface TelemetryConnector {
  /** The consumer group as written; null: `<instance>-ingest` (iot-hub.yaml `instance`). */
  groupId: string | null;
  topics: string[];
  partitions: number;
  mappings: string;
  limits: PayloadLimits;
}

/** The file as written, after schema validation (the schema makes topics required). */
interface TelemetryYaml {
  kind?: 'TelemetryIngest';
  group_id?: string;
  topics: string[];
  partitions: number;
  mappings: string;
  limits?: { max_message_bytes?: number; max_depth?: number };
}

/** The consumer group the ingest joins: the file's group_id, else `<instance>-ingest`. */
export function ingestGroupId(connector: TelemetryConnector, instance: string): string {
  return connector.groupId ?? `${instance}-ingest`;
}

/**
 * Reads and validates connectors/telemetry.yaml. Throws a ConfigError with one `file:line:col: key: problem`
 * line per problem (unknown keys list the allowed ones).
 */
export function readTelemetryConnector(file = 'connectors/telemetry.yaml'): TelemetryConnector {
  const { value } = loadYamlFile<TelemetryYaml>(file, schema, {
    defaults: { topics: [], partitions: 4, mappings: 'mappings' },
  });
  return {
    groupId: value.group_id ?? null,
    topics: value.topics,
    partitions: value.partitions,
    mappings: value.mappings,
    limits: {
      maxMessageBytes: value.limits?.max_message_bytes ?? defaultPayloadLimits.maxMessageBytes,
      maxDepth: value.limits?.max_depth ?? defaultPayloadLimits.maxDepth,
    },
  };
}
