import { describe, expect, it } from 'vitest';
import { connectorPlaceholders, fillPlaceholders } from '../../../src/cdc/connectors.ts';
import { readConnectorDefinition } from '../../../src/cdc/index.ts';

describe('connectors/debezium/outbox.json', () => {
  const file = 'connectors/debezium/outbox.json';

  it('reads the hub database named by the config, with the outbox event router on hub.outbox only', () => {
    const placeholders = connectorPlaceholders({
      database: { url: 'postgres://postgres@db.example:5432/iot_hub_prod?sslmode=require', poolMax: 1 },
    });
    const def = fillPlaceholders(readConnectorDefinition(file), placeholders, file);
    expect(def.config).toMatchObject({
      'database.dbname': 'iot_hub_prod',
      'table.include.list': 'hub.outbox',
      'publication.name': 'hub_outbox_pub',
      'publication.autocreate.mode': 'disabled',
      'transforms.outbox.type': 'io.debezium.transforms.outbox.EventRouter',
      'transforms.outbox.route.by.field': 'aggregatetype',
      // Connect's own ${…} syntax for the router is left alone.
      'transforms.outbox.route.topic.replacement': '${routedByValue}.state',
      'transforms.outbox.table.expand.json.payload': 'true',
    });
  });

  it('names an unknown placeholder, its key and the file', () => {
    const def = { name: 'x', config: { 'database.dbname': '{{database.name}}' } };
    expect(() => fillPlaceholders(def, { 'database.dbname': 'hub' }, 'x.json')).toThrow(
      'x.json: database.dbname: unknown placeholder {{database.name}}; known: database.dbname',
    );
  });
});
