import { propagation, ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';
import type { AlertTicketRow } from './ticket-store.ts';

// Tracing of ticket delivery: one span per bullmq job (ticket-worker.ts), linked to the context that raised each
// alert it delivers (hub.alert.evidence.trace, written by raiseAlerts in src/quality/raise-alerts.ts).

export const ticketTracer = trace.getTracer('iot-hub');

/** Span attribute names, shared with tests and dashboards. */
export const ticketSpanAttributes = {
  alertKey: 'iot_hub.alert.key',
  correlationId: 'iot_hub.ticket.correlation_id',
  action: 'iot_hub.ticket.action',
  jobId: 'messaging.message.id',
  attempt: 'iot_hub.ticket.attempt',
} as const;

/** Adds a link from the active span to the trace that raised the row's current revision, when one was stored. */
export function linkAlertTrace(row: AlertTicketRow): void {
  const span = trace.getActiveSpan();
  const stored = (row.evidence as { trace?: { traceparent?: unknown; tracestate?: unknown } } | null)?.trace;
  if (!span || typeof stored?.traceparent !== 'string') return;
  const carrier: Record<string, string> = { traceparent: stored.traceparent };
  if (typeof stored.tracestate === 'string') carrier.tracestate = stored.tracestate;
  const raised = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, carrier));
  if (!raised) return;
  span.addLink({
    context: raised,
    attributes: { 'iot_hub.alert.id': row.id, 'iot_hub.alert.revision': row.revision },
  });
}

/** Records on the active span the write about to be sent for an alert. */
export function noteTicketWrite(row: AlertTicketRow, correlationId: string, action: string): void {
  const span: Span | undefined = trace.getActiveSpan();
  if (!span) return;
  span.setAttributes({
    [ticketSpanAttributes.correlationId]: correlationId,
    [ticketSpanAttributes.action]: action,
  });
  span.addEvent('servicenow write', {
    'iot_hub.alert.id': row.id,
    'iot_hub.alert.revision': row.revision,
    [ticketSpanAttributes.action]: action,
  });
}
