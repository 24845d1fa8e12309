import type { AlertTicketRow } from './ticket-store.ts';

/**
 * Brings ServiceNow up to one alert row's revision, in one delivery mode (incident or event). Acknowledges,
 * marks the intent failed, or throws a retriable error; calls `guard()` before every write, which throws
 * when this worker lost the alert key's lease.
 */
export interface AlertSync {
  readonly mode: 'incident' | 'event';
  sync(row: AlertTicketRow, guard: () => Promise<void>): Promise<void>;
}
