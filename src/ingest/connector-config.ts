import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** connectors/telemetry.yaml: the telemetry ingest's topics, consumer group and mappings folder. */
export interface TelemetryConnector {
  groupId: string;
  topics: string[];
  partitions: number;
  mappings: string;
}

export function readTelemetryConnector(file = 'connectors/telemetry.yaml'): TelemetryConnector {
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const topics = doc.topics;
  if (
    !Array.isArray(topics) ||
    topics.length === 0 ||
    !topics.every((t) => typeof t === 'string' && t.length > 0)
  ) {
    throw new Error(`${file}: topics must be a non-empty list of topic names`);
  }
  const groupId = doc.group_id ?? 'iot-hub-ingest';
  if (typeof groupId !== 'string') throw new Error(`${file}: group_id must be a string`);
  const partitions = doc.partitions ?? 4;
  if (!Number.isInteger(partitions) || (partitions as number) < 1)
    throw new Error(`${file}: partitions must be a positive integer`);
  return {
    groupId,
    topics: topics as string[],
    partitions: partitions as number,
    mappings: String(doc.mappings ?? 'mappings'),
  };
}
