import type { CompiledMapping } from '../mapping/index.ts';
import type { Logger } from '../observability/index.ts';
import type { AlertSync } from './alert-sync.ts';
import { evidenceSummary, incidentContent, noteMarker } from './incident-content.ts';
import type { ServiceNowClient } from './servicenow-client.ts';
import { alertToIncidentSeconds, ticketsTotal } from './ticket-metrics.ts';
import type { AlertTicketRow, InflightWrite, TicketStore } from './ticket-store.ts';
import { noteTicketWrite } from './ticket-tracing.ts';

export interface EventSyncOptions {
  client: ServiceNowClient;
  store: TicketStore;
  mapping: CompiledMapping;
  source: string;
  eventClass: string;
  logger: Logger;
}

/** Event Management severities: 0 Clear, 1 Critical, 2 Major, 4 Warning, 5 OK/Info. */
function eventSeverity(row: AlertTicketRow): string {
  if (row.status === 'cleared') return '0';
  if (row.status === 'escalated') return '1';
  return row.severity === 'fail' ? '2' : row.severity === 'warn' ? '4' : '5';
}

/** `YYYY-MM-DD HH:mm:ss` in GMT, as time_of_event wants it. */
function glideTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * Event Management delivery: each revision of an alert is one event with message_key = the correlation_id,
 * so the instance keeps one em_alert per alert key (its alert rules decide about incidents); a clear sends
 * severity 0, which closes it. Resending an event only updates the same em_alert, so a lost answer is simply
 * sent again.
 */
export class EventSync implements AlertSync {
  readonly mode = 'event';
  readonly #options: EventSyncOptions;

  constructor(options: EventSyncOptions) {
    this.#options = options;
  }

  async sync(row: AlertTicketRow, guard: () => Promise<void>): Promise<void> {
    const { client, store, mapping } = this.#options;
    const content = await incidentContent(mapping, row);
    const at =
      row.status === 'cleared' ? (row.cleared_at ?? new Date()) : (row.last_seen_at ?? row.opened_at);
    const info: Record<string, string> = {
      hub_alert_id: String(row.id),
      revision: String(row.revision),
      rule: row.rule,
      repeats: String(row.repeat_count),
      evidence: evidenceSummary(row),
    };
    const record: Record<string, string> = {
      source: this.#options.source,
      event_class: this.#options.eventClass,
      node: row.device_id ?? '',
      resource: `${row.device_id ?? ''}/${row.metric_code ?? 'device'}`,
      metric_name: row.metric_code ?? '',
      type: row.rule,
      message_key: content.correlationId,
      severity: eventSeverity(row),
      description: `${content.fields.short_description ?? row.alert_key} ${noteMarker(row, row.revision)}`,
      time_of_event: glideTime(at),
      additional_info: JSON.stringify(info),
    };
    const inflight: InflightWrite = {
      action: 'event',
      revision: row.revision,
      marker: noteMarker(row, row.revision),
      repeats: row.repeat_count,
      escalated: row.status === 'escalated',
      resolved: row.status === 'cleared',
    };
    await guard();
    noteTicketWrite(row, content.correlationId, inflight.action);
    await store.markInflight(row.id, inflight, content.correlationId);
    await client.sendEvents([record]);
    const first = row.ticket_opened_at === null && row.status !== 'cleared';
    const { openedLatencySeconds } = await store.acknowledge(row.id, inflight, null, first);
    const outcome =
      row.status === 'cleared'
        ? 'resolved'
        : first
          ? 'created'
          : inflight.escalated && !row.ticket_escalated
            ? 'escalated'
            : 'updated';
    ticketsTotal.inc({ mode: 'event', outcome });
    if (openedLatencySeconds !== null)
      alertToIncidentSeconds.observe({ mode: 'event' }, openedLatencySeconds);
    this.#options.logger.debug({ alert: row.id, outcome }, 'event acknowledged');
  }
}
