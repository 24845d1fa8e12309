import { counter } from '../observability/index.ts';

// The quality stage's metric names, declared once (STYLE §5.14).

/** Alert lifecycle events written to hub.alert, by what happened. */
export const alertEventsTotal = counter(
  'hub_alert_events_total',
  'Alert lifecycle events written to hub.alert',
  ['event'],
);
