import { choice, dateTime, integer, reference, type TableDef, text } from './table-schema.ts';

const eventSeverities = {
  '0': 'Clear',
  '1': 'Critical',
  '2': 'Major',
  '3': 'Minor',
  '4': 'Warning',
  '5': 'Info',
};

// What an event says about its origin; an alert carries the same columns.
const eventIdentity = {
  source: text('Source'),
  event_class: text('Source instance'),
  node: text('Node'),
  resource: text('Resource'),
  metric_name: text('Metric name'),
  type: text('Type'),
  message_key: text('Message key'),
  severity: choice('Severity', eventSeverities),
};

/** Event Management: events as received (`em_event`) and the alerts they open or close (`em_alert`). */
export const eventTables: TableDef[] = [
  {
    name: 'em_event',
    label: 'Event',
    displayField: 'message_key',
    fields: {
      ...eventIdentity,
      resolution_state: choice('Resolution state', { New: 'New', Closing: 'Closing' }, 'New'),
      description: text('Description'),
      additional_info: text('Additional information'),
      time_of_event: text('Time of event'),
      ci_type: text('CI type'),
      state: choice(
        'State',
        { Ready: 'Ready', Processed: 'Processed', Error: 'Error', Ignored: 'Ignored' },
        'Ready',
      ),
      processing_notes: text('Processing notes'),
      alert: reference('Alert', 'em_alert'),
    },
  },
  {
    name: 'em_alert',
    label: 'Alert',
    displayField: 'number',
    fields: {
      number: text('Number'),
      ...eventIdentity,
      state: choice(
        'State',
        { Open: 'Open', Reopen: 'Reopen', Flapping: 'Flapping', Closed: 'Closed' },
        'Open',
      ),
      description: text('Description'),
      additional_info: text('Additional information'),
      cmdb_ci: reference('Configuration item', 'cmdb_ci'),
      event_count: integer('Event count', '0'),
      initial_remote_time: dateTime('Initial event time'),
      last_remote_time: dateTime('Last event time'),
    },
  },
];
