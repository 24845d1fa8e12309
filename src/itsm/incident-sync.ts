import type { CompiledMapping } from '../mapping/index.ts';
import type { Logger } from '../observability/index.ts';
import type { AlertSync } from './alert-sync.ts';
import {
  escalatedFields,
  evidenceSummary,
  type IncidentContent,
  incidentContent,
  noteMarker,
  repeatLine,
} from './incident-content.ts';
import type { IncidentRef, ServiceNowClient } from './servicenow-client.ts';
import { ServiceNowError } from './servicenow-error.ts';
import { alertToIncidentSeconds, ticketsTotal } from './ticket-metrics.ts';
import type { AlertTicketRow, InflightWrite, TicketStore } from './ticket-store.ts';
import { noteTicketWrite } from './ticket-tracing.ts';

export interface IncidentSyncOptions {
  client: ServiceNowClient;
  store: TicketStore;
  mapping: CompiledMapping;
  closeCode: string;
  logger: Logger;
}

/**
 * Table API delivery (docs/servicenow-tickets.md): exactly one open incident per alert key. Before a create
 * it searches by correlation_id and adopts what it finds; after a create or update whose answer was lost it
 * looks again (the incident by correlation_id, the work note by its marker) before writing anything else, so
 * a timed-out POST or PATCH neither duplicates the incident nor its note. Repeats become work notes,
 * escalation raises urgency and impact, a clear resolves with state 6, close_code and close_notes.
 */
export class IncidentSync implements AlertSync {
  readonly mode = 'incident';
  readonly #client: ServiceNowClient;
  readonly #store: TicketStore;
  readonly #mapping: CompiledMapping;
  readonly #closeCode: string;
  readonly #logger: Logger;

  constructor(options: IncidentSyncOptions) {
    this.#client = options.client;
    this.#store = options.store;
    this.#mapping = options.mapping;
    this.#closeCode = options.closeCode;
    this.#logger = options.logger;
  }

  async sync(initial: AlertTicketRow, guard: () => Promise<void>): Promise<void> {
    const content = await incidentContent(this.#mapping, initial);
    let row = initial;
    let adopted = false;
    if (row.ticket_inflight) ({ row, adopted } = await this.#confirm(row, row.ticket_inflight, content));
    if (row.ticket_state !== 'pending' && row.ticket_state !== 'sent') return;
    if (!row.ticket_sys_id) {
      const found = await this.#client.findOpenIncident(content.correlationId);
      if (found) {
        await this.#adopt(row, found);
        row = { ...row, ticket_sys_id: found.sysId, ticket_number: found.number };
        adopted = true;
      } else if (row.status === 'cleared') {
        // Cleared before any incident existed: nothing to resolve.
        await this.#store.acknowledge(
          row.id,
          { revision: row.revision, repeats: row.repeat_count, escalated: false },
          null,
          false,
        );
        return;
      } else {
        await this.#create(row, content, guard);
        return;
      }
    }
    await this.#update(row, content, guard, adopted);
  }

  async #create(row: AlertTicketRow, content: IncidentContent, guard: () => Promise<void>): Promise<void> {
    const escalated = row.status === 'escalated';
    const newRepeats = row.repeat_count - row.ticket_repeats_sent;
    const inflight: InflightWrite = {
      action: 'create',
      revision: row.revision,
      marker: noteMarker(row, row.revision),
      repeats: row.repeat_count,
      escalated,
      resolved: false,
    };
    const lines = [content.openingNote];
    if (newRepeats > 0) lines.push(repeatLine(newRepeats, row));
    if (escalated) lines.push(`Escalated by IoT hub: severity ${row.severity} (${evidenceSummary(row)})`);
    lines.push(inflight.marker);
    const body = {
      ...content.fields,
      ...(escalated ? escalatedFields(content.fields) : {}),
      work_notes: lines.join('\n'),
    };
    await guard();
    noteTicketWrite(row, content.correlationId, inflight.action);
    await this.#store.markInflight(row.id, inflight, content.correlationId);
    let created: IncidentRef;
    try {
      created = await this.#client.createIncident(body);
    } catch (e) {
      if (!(e instanceof ServiceNowError) || !e.retriable) throw e;
      // The create may have been committed although its answer never came: look again now.
      const again = await this.#confirm(row, inflight, content).catch(() => null);
      if (again && again.row.ticket_revision >= inflight.revision) return;
      throw e;
    }
    await this.#acknowledged(row, inflight, created, 'created');
  }

  async #update(
    row: AlertTicketRow,
    content: IncidentContent,
    guard: () => Promise<void>,
    adopted: boolean,
  ): Promise<void> {
    const sysId = row.ticket_sys_id!;
    const fields: Record<string, string> = {};
    const lines: string[] = [];
    if (adopted)
      lines.push(
        `IoT hub alert ${row.id} is attached to this open incident: ${content.fields.short_description ?? row.alert_key}`,
      );
    const newRepeats = row.repeat_count - row.ticket_repeats_sent;
    if (newRepeats > 0) lines.push(repeatLine(newRepeats, row));
    const cleared = row.status === 'cleared';
    const escalate = !cleared && row.status === 'escalated' && !row.ticket_escalated;
    if (escalate) {
      Object.assign(fields, escalatedFields(content.fields));
      lines.push(`Escalated by IoT hub: severity ${row.severity} (${evidenceSummary(row)})`);
    }
    if (cleared) {
      fields.state = '6';
      fields.close_code = this.#closeCode;
      fields.close_notes = `Condition cleared at ${(row.cleared_at ?? new Date()).toISOString()} (IoT hub alert ${row.id} cleared)`;
      lines.push('Auto-resolved by IoT hub');
    }
    const inflight: InflightWrite = {
      action: cleared ? 'resolve' : escalate ? 'escalate' : 'update',
      revision: row.revision,
      marker: noteMarker(row, row.revision),
      repeats: row.repeat_count,
      escalated: escalate || row.ticket_escalated,
      resolved: cleared,
    };
    if (lines.length === 0) {
      await this.#store.acknowledge(row.id, inflight, null, false);
      return;
    }
    lines.push(inflight.marker);
    fields.work_notes = lines.join('\n');
    await guard();
    noteTicketWrite(row, content.correlationId, inflight.action);
    await this.#store.markInflight(row.id, inflight, content.correlationId);
    try {
      await this.#client.updateIncident(sysId, fields);
    } catch (e) {
      if (e instanceof ServiceNowError && e.kind === 'not_found') {
        // Deleted on the instance: forget it; the next round resolves nothing or opens a new incident.
        this.#logger.warn({ alert: row.id, sysId }, 'incident no longer exists in ServiceNow');
        await this.#store.forgetIncident(row.id);
        if (cleared) await this.#store.acknowledge(row.id, inflight, null, false);
        return;
      }
      throw e;
    }
    await this.#acknowledged(row, inflight, null, cleared ? 'resolved' : escalate ? 'escalated' : 'updated');
  }

  /**
   * Settles a write whose answer never came. A create is looked up by correlation_id: found with our marker, it
   * is acknowledged; found without, it is someone else's open incident and is adopted; not found, nothing
   * happened. An update is looked up by its marker in the journal. Returns the row as it now stands.
   */
  async #confirm(
    row: AlertTicketRow,
    inflight: InflightWrite,
    content: IncidentContent,
  ): Promise<{ row: AlertTicketRow; adopted: boolean }> {
    let adopted = false;
    if (inflight.action === 'create') {
      const found = await this.#client.findOpenIncident(content.correlationId);
      if (!found) {
        await this.#store.clearInflight(row.id);
      } else if (await this.#client.hasWorkNote(found.sysId, inflight.marker)) {
        this.#logger.info(
          { alert: row.id, incident: found.number },
          'a create whose answer was lost did land',
        );
        await this.#acknowledged(row, inflight, found, 'created');
      } else {
        await this.#adopt(row, found);
        await this.#store.clearInflight(row.id);
        adopted = true;
      }
    } else if (!row.ticket_sys_id) {
      await this.#store.clearInflight(row.id);
    } else {
      let landed = false;
      try {
        landed = await this.#client.hasWorkNote(row.ticket_sys_id, inflight.marker);
      } catch (e) {
        if (!(e instanceof ServiceNowError) || e.kind !== 'not_found') throw e;
      }
      if (landed) {
        const outcome =
          inflight.action === 'resolve'
            ? 'resolved'
            : inflight.action === 'escalate'
              ? 'escalated'
              : 'updated';
        await this.#acknowledged(row, inflight, null, outcome);
      } else {
        await this.#store.clearInflight(row.id);
      }
    }
    return { row: await this.#store.row(row.id), adopted };
  }

  async #adopt(row: AlertTicketRow, found: IncidentRef): Promise<void> {
    this.#logger.info(
      { alert: row.id, incident: found.number },
      'open incident found by correlation_id; updating it instead of creating one',
    );
    await this.#store.adopt(row.id, found);
  }

  async #acknowledged(
    row: AlertTicketRow,
    inflight: InflightWrite,
    incident: IncidentRef | null,
    outcome: 'created' | 'updated' | 'escalated' | 'resolved',
  ): Promise<void> {
    const { openedLatencySeconds } = await this.#store.acknowledge(
      row.id,
      inflight,
      incident,
      outcome === 'created',
    );
    ticketsTotal.inc({ mode: 'incident', outcome });
    if (openedLatencySeconds !== null)
      alertToIncidentSeconds.observe({ mode: 'incident' }, openedLatencySeconds);
    this.#logger.debug(
      { alert: row.id, key: row.alert_key, outcome, revision: inflight.revision },
      'ticket acknowledged',
    );
  }
}
