import { dataPolicyException } from './api-failure.ts';
import type { TableRule, WriteChange } from './write-record.ts';

/** Priority lookup base data, impact × urgency. */
const priorityMatrix: Readonly<Record<string, string>> = {
  '1:1': '1',
  '1:2': '2',
  '1:3': '3',
  '2:1': '2',
  '2:2': '3',
  '2:3': '4',
  '3:1': '3',
  '3:2': '4',
  '3:3': '5',
};

/** The derived priority, or undefined when impact or urgency is outside 1–3. */
export function priorityFor(impact: string, urgency: string): string | undefined {
  return priorityMatrix[`${impact}:${urgency}`];
}

// Mandatory on Resolved and Closed, with the labels the data-policy message names.
const resolutionFields = [
  ['close_code', 'Resolution code'],
  ['close_notes', 'Resolution notes'],
] as const;

const inactiveStates = ['7', '8'];
const finishedStates = ['6', '7', '8'];

export interface IncidentRuleOptions {
  /** Refuse state 6/7 without close_code and close_notes with a 403. */
  resolutionDataPolicy: boolean;
}

/**
 * Incident business logic: number from INC0010001, opened_at/opened_by,
 * read-only priority from the lookup, incident_state mirroring state, resolve/close/cancel/reopen stamps.
 */
export function createIncidentRule(options: IncidentRuleOptions): TableRule {
  return { beforeWrite: (change) => applyIncidentRules(change, options) };
}

function applyIncidentRules(change: WriteChange, options: IncidentRuleOptions): void {
  const { next, previous, user, now, store } = change;
  if (!previous) {
    // Like the field's default on the instance, the sequence only fills a number the caller did not send.
    const number = next.number || store.nextNumber('INC');
    next.number = number;
    next.task_effective_number = number;
    next.opened_at = now;
    next.opened_by = user.sysId;
  }
  // incident_state and state stay in step; a write of incident_state alone moves state.
  if (previous && next.state === previous.state && next.incident_state !== previous.incident_state) {
    next.state = next.incident_state ?? '';
  }
  next.incident_state = next.state ?? '';
  // Priority is read-only: any sent value is replaced by the lookup.
  next.priority = priorityFor(next.impact ?? '', next.urgency ?? '') ?? previous?.priority ?? '5';

  const from = previous?.state;
  const to = next.state ?? '';
  if (to !== from) {
    if (to === '6' || (to === '7' && !next.resolved_at)) {
      next.resolved_at = now;
      next.resolved_by = user.sysId;
    }
    if (to === '7') {
      next.closed_at = now;
      next.closed_by = user.sysId;
    }
    if (inactiveStates.includes(to)) next.active = 'false';
    if (from !== undefined && finishedStates.includes(from) && !finishedStates.includes(to)) {
      next.reopen_count = String(Number(next.reopen_count || '0') + 1);
      next.reopened_time = now;
      next.reopened_by = user.sysId;
      next.active = 'true';
      Object.assign(next, { resolved_at: '', resolved_by: '', closed_at: '', closed_by: '' });
    }
  }
  if (options.resolutionDataPolicy && (to === '6' || to === '7')) {
    const missing = resolutionFields.filter(([field]) => !next[field]).map(([, label]) => label);
    if (missing.length > 0) throw dataPolicyException(missing);
  }
}
