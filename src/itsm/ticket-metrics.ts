import { counter, gauge, histogram } from '../observability/index.ts';

// The ITSM stage's metric names, declared once (docs/servicenow-tickets.md, "Metrics").

/** Ticket writes ServiceNow acknowledged (created, updated, escalated, resolved) or intents that failed for good. */
export const ticketsTotal = counter(
  'hub_tickets_total',
  'ServiceNow tickets by outcome (created, updated, escalated, resolved, failed)',
  ['mode', 'outcome'],
);

/** Ticket jobs in the bullmq queue by state (waiting, active, delayed, prioritized, failed). */
export const ticketQueueJobs = gauge(
  'hub_ticket_queue_jobs',
  'Ticket delivery jobs in the bullmq queue, by state',
  ['state'],
);

/** Alert ticket intents in hub.alert by ticket_state (pending, sent, acknowledged, failed). */
export const ticketIntents = gauge(
  'hub_ticket_intents',
  'Alert ticket intents in hub.alert, by ticket_state',
  ['state'],
);

/** From the alert asking for a ticket to ServiceNow confirming the incident (or the first event). */
export const alertToIncidentSeconds = histogram(
  'hub_alert_to_incident_seconds',
  'Latency from an alert asking for a ticket to ServiceNow confirming it',
  ['mode'],
  [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
);

/** ServiceNow API calls by method and HTTP status (`timeout` or `network` when no answer came). */
export const servicenowRequestsTotal = counter(
  'hub_servicenow_requests_total',
  'ServiceNow API requests by method and status',
  ['method', 'status'],
);

export const servicenowRequestSeconds = histogram(
  'hub_servicenow_request_duration_seconds',
  'ServiceNow API request duration',
  ['method'],
);

/** 429 answers, `rule` (with Retry-After or X-RateLimit-Reset) or `busy` (no headers: exponential backoff). */
export const servicenowRateLimitedTotal = counter(
  'hub_servicenow_rate_limited_total',
  'ServiceNow 429 answers by kind',
  ['kind'],
);

/** Transient ticket job failures that bullmq retries with backoff, by error kind. */
export const ticketRetriesTotal = counter(
  'hub_ticket_retries_total',
  'Ticket job attempts that failed and will be retried',
  ['kind'],
);

/** Alert keys the reconciler (re-)enqueued. */
export const reconcilerEnqueuedTotal = counter(
  'hub_ticket_reconciler_enqueued_total',
  'Alert keys with undelivered ticket intents the reconciler enqueued',
);
