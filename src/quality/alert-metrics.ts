import { counter } from '../observability/index.ts';

// The quality stage's metric names, declared once.

/** Alert lifecycle events written to hub.alert, by what happened. */
export const alertEventsTotal = counter(
  'hub_alert_events_total',
  'Alert lifecycle events written to hub.alert',
  ['event'],
);
