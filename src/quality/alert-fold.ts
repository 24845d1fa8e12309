import {
  type AlertClear,
  type AlertEvent,
  type AlertRaise,
  type AlertSeverity,
  alertKey,
  type RaiseOutcome,
  severityRank,
} from './alert-events.ts';

/** An active hub.alert row as raiseAlerts reads it before applying a batch. */
export interface ActiveAlertRow {
  id: number;
  alert_key: string;
  status: 'open' | 'escalated' | 'suppressed';
  severity: AlertSeverity;
  evidence: Record<string, unknown>;
  ticket_state: 'pending' | 'sent' | 'acknowledged' | 'failed' | null;
  ticket_sys_id: string | null;
  /** Read for the replay check (FoldOptions.replay); absent rows skip it. */
  opened_at?: Date | null;
  last_seen_at?: Date | null;
}

export interface FoldOptions {
  /**
   * The events may already be stored (the write is a retry after an error whose outcome is unknown, e.g. the
   * connection dropped during COMMIT). A raise not newer than the stored alert's last_seen_at, or a clear older
   * than its opened_at, was applied before and is skipped, so a retry never repeats, escalates or clears twice.
   * Only for sources whose events of one key carry increasing `at` (the alert engine).
   */
  replay?: boolean;
}

/**
 * How a write changes the ticket intent. `keep`: not at all; `touch`: something to deliver, so pending unless
 * there is no ticket, it failed, or a write is in flight (decided in SQL, against the current value, because
 * the delivery updates it concurrently); `open`: the alert now wants a ticket (un-suppressed).
 */
export type TicketChange = 'keep' | 'touch' | 'open';

/** One alert row after a batch: a new row to insert (`id` null) or an existing one to update. */
export interface FoldedAlert {
  id: number | null;
  key: string;
  deviceId: string;
  assetId: string | null;
  metric: string | null;
  rule: string;
  status: 'open' | 'escalated' | 'cleared' | 'suppressed';
  severity: AlertSeverity;
  evidence: Record<string, unknown>;
  openedAt: Date;
  escalatedAt: Date | null;
  clearedAt: Date | null;
  lastSeenAt: Date;
  /** New rows: the ticket state to insert. Existing rows: as read (the SQL decides with `ticketChange`). */
  ticketState: ActiveAlertRow['ticket_state'];
  ticketAction: 'create' | 'update' | 'escalate' | 'resolve' | null;
  ticketChange: TicketChange;
  hasIncident: boolean;
  /** Added to repeat_count and revision (new rows start at 0 and 1). */
  repeatDelta: number;
  revisionDelta: number;
}

const ranked = (a: AlertSeverity, b: AlertSeverity) => (severityRank[a] >= severityRank[b] ? a : b);
const strongest = (a: TicketChange, b: TicketChange): TicketChange =>
  a === 'open' || b === 'open' ? 'open' : a === 'touch' || b === 'touch' ? 'touch' : 'keep';

/**
 * Applies a batch of events, in order, to the keys' active alerts, in memory. Pure: returns the rows to write
 * (in the order they were first touched; a key cleared and raised again gives two rows) and counts outcomes
 * into `outcome`, adding to `ticketedKeys` the keys whose ticket intent changed.
 */
export function foldAlertEvents(
  events: readonly AlertEvent[],
  active: readonly ActiveAlertRow[],
  outcome: RaiseOutcome,
  ticketedKeys: Set<string>,
  options: FoldOptions = {},
): FoldedAlert[] {
  const current = new Map<string, FoldedAlert>();
  /** Stored rows as read, for the replay check; rows created by this batch are never in it. */
  const stored = new Map<FoldedAlert, ActiveAlertRow>();
  for (const row of active) {
    current.set(row.alert_key, {
      id: row.id,
      key: row.alert_key,
      deviceId: '',
      assetId: null,
      metric: null,
      rule: '',
      status: row.status,
      severity: row.severity,
      evidence: row.evidence ?? {},
      openedAt: new Date(0),
      escalatedAt: null,
      clearedAt: null,
      lastSeenAt: new Date(0),
      ticketState: row.ticket_state,
      ticketAction: null,
      ticketChange: 'keep',
      hasIncident: row.ticket_sys_id !== null,
      repeatDelta: 0,
      revisionDelta: 0,
    });
    stored.set(current.get(row.alert_key)!, row);
  }
  const alreadyApplied = (a: FoldedAlert | undefined, event: AlertEvent): boolean => {
    const row = a && options.replay && event.at ? stored.get(a) : undefined;
    if (!row || !event.at) return false;
    if (event.kind === 'raise') return row.last_seen_at != null && event.at <= row.last_seen_at;
    return row.opened_at != null && event.at < row.opened_at;
  };
  const touched: FoldedAlert[] = [];
  const touch = (a: FoldedAlert) => {
    if (!touched.includes(a)) touched.push(a);
  };
  /** Whether a change to this alert is something its ticket must hear about. */
  const ticketed = (a: FoldedAlert) =>
    a.ticketChange === 'open' || (a.ticketState !== null && a.ticketState !== 'failed');

  for (const event of events) {
    const key = alertKey(event.deviceId, event.metric, event.rule);
    const a = current.get(key);
    if (alreadyApplied(a, event)) {
      outcome.replayed += 1;
      continue;
    }
    if (event.kind === 'clear') {
      if (!a) {
        outcome.ignored += 1;
        continue;
      }
      clear(a, event);
      current.delete(key);
      outcome.cleared += 1;
      touch(a);
      if (ticketed(a)) ticketedKeys.add(key);
      continue;
    }
    if (!a) {
      const created = open(key, event);
      current.set(key, created);
      touch(created);
      if (created.status === 'suppressed') outcome.suppressed += 1;
      else {
        outcome.opened += 1;
        ticketedKeys.add(key);
      }
      continue;
    }
    const result = raise(a, event);
    outcome[result] += 1;
    touch(a);
    if (result !== 'suppressed' && ticketed(a)) ticketedKeys.add(key);
  }
  return touched;
}

function open(key: string, event: AlertRaise): FoldedAlert {
  const at = event.at ?? new Date();
  const suppressed = event.suppressed === true;
  const escalated = event.escalate === true && !suppressed;
  return {
    id: null,
    key,
    deviceId: event.deviceId,
    assetId: event.assetId ?? null,
    metric: event.metric ?? null,
    rule: event.rule,
    status: suppressed ? 'suppressed' : escalated ? 'escalated' : 'open',
    severity: event.severity,
    evidence: event.evidence ?? {},
    openedAt: at,
    escalatedAt: escalated ? at : null,
    clearedAt: null,
    lastSeenAt: at,
    ticketState: suppressed ? null : 'pending',
    ticketAction: suppressed ? null : 'create',
    ticketChange: 'keep',
    hasIncident: false,
    repeatDelta: 0,
    revisionDelta: 0,
  };
}

function raise(a: FoldedAlert, event: AlertRaise): 'repeated' | 'escalated' | 'suppressed' | 'unsuppressed' {
  const at = event.at ?? new Date();
  a.evidence = event.evidence ?? {};
  a.lastSeenAt = at;
  a.repeatDelta += 1;
  a.revisionDelta += 1;
  if (a.status === 'suppressed') {
    a.severity = ranked(event.severity, a.severity);
    if (event.suppressed) return 'suppressed';
    // The work order closed while the condition still holds: the alert now wants its incident.
    a.status = 'open';
    a.ticketAction = 'create';
    if (a.id === null) a.ticketState = 'pending';
    else a.ticketChange = 'open';
    return 'unsuppressed';
  }
  const escalates =
    a.status === 'open' &&
    (severityRank[event.severity] > severityRank[a.severity] || event.escalate === true);
  a.severity = ranked(event.severity, a.severity);
  if (escalates) {
    a.status = 'escalated';
    a.escalatedAt = at;
  }
  if (a.id !== null) a.ticketChange = strongest(a.ticketChange, 'touch');
  if (a.ticketAction !== 'create')
    a.ticketAction = !a.hasIncident ? 'create' : escalates ? 'escalate' : 'update';
  return escalates ? 'escalated' : 'repeated';
}

function clear(a: FoldedAlert, event: AlertClear): void {
  const at = event.at ?? new Date();
  a.status = 'cleared';
  a.clearedAt = at;
  a.evidence = { ...a.evidence, clear: { at: at.toISOString(), ...event.evidence } };
  a.revisionDelta += 1;
  a.ticketAction = a.ticketState === null && a.ticketChange !== 'open' ? a.ticketAction : 'resolve';
  if (a.id !== null) a.ticketChange = strongest(a.ticketChange, 'touch');
}
