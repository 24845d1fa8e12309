import type { CheckName, CheckParameters, CheckResult, QartodFlag } from '../detectors/index.ts';

// Hysteresis between check results and dq events (docs/data-quality.md, "Events and alerts"): an event opens
// after `openAfter` consecutive suspect-or-worse evaluations (`openAfterFail` when they fail), escalates when
// its severity rises, and closes after `closeAfter` consecutive passes. Not-evaluated results (flag 2) count
// neither way. Pure: the caller persists the state and writes the transitions.

export type Severity = CheckResult['severity'];

const severityRank: Readonly<Record<Severity, number>> = { info: 0, warn: 1, fail: 2 };

/** One check's counters and its open event, as persisted in hub.dq_series_state.tracker_state. */
export interface CheckTrack {
  bad: number;
  good: number;
  /** Severity of the open event; absent when none is open. */
  open?: Severity;
  /** Worst severity among the consecutive bad evaluations. */
  worst?: Severity;
}

export interface TrackerState {
  checks: Partial<Record<CheckName, CheckTrack>>;
  /** The newest readings [ts, value], the series excerpt put into an event's evidence. */
  excerpt: [number, number][];
}

export type Transition =
  | {
      kind: 'open';
      check: CheckName;
      severity: Severity;
      at: number;
      result: CheckResult;
      excerpt: [number, number][];
    }
  | {
      kind: 'escalate';
      check: CheckName;
      severity: Severity;
      at: number;
      result: CheckResult;
      excerpt: [number, number][];
    }
  | { kind: 'close'; check: CheckName; at: number; result: CheckResult | null };

export const excerptLength = 12;

export function emptyTracker(): TrackerState {
  return { checks: {}, excerpt: [] };
}

/** Reads a persisted tracker state (tolerates an empty object from a fresh row). */
export function trackerFrom(value: unknown): TrackerState {
  const v = (value ?? {}) as Partial<TrackerState>;
  return { checks: { ...(v.checks ?? {}) }, excerpt: [...(v.excerpt ?? [])] };
}

/** Adds a reading to the excerpt (bounded). */
export function noteReading(state: TrackerState, ts: number, value: number): void {
  state.excerpt.push([ts, value]);
  if (state.excerpt.length > excerptLength) state.excerpt.splice(0, state.excerpt.length - excerptLength);
}

/** Applies one evaluation's results at time `at`; returns the event transitions it causes. */
export function trackResults(
  state: TrackerState,
  results: readonly CheckResult[],
  at: number,
  params: Pick<CheckParameters, 'openAfter' | 'closeAfter' | 'openAfterFail'>,
): Transition[] {
  const out: Transition[] = [];
  for (const r of results) {
    const t = trackOne(state, r, at, params);
    if (t) out.push(t);
  }
  return out;
}

function trackOne(
  state: TrackerState,
  r: CheckResult,
  at: number,
  params: Pick<CheckParameters, 'openAfter' | 'closeAfter' | 'openAfterFail'>,
): Transition | null {
  if (r.flag === 2) return null;
  const track = state.checks[r.check] ?? { bad: 0, good: 0 };
  state.checks[r.check] = track;
  if (r.flag === 1) {
    track.good += 1;
    track.bad = 0;
    delete track.worst;
    if (track.open && track.good >= Math.max(1, params.closeAfter)) {
      delete track.open;
      return { kind: 'close', check: r.check, at, result: r };
    }
    return null;
  }
  track.bad += 1;
  track.good = 0;
  const severity = worse(track.worst, r.severity === 'info' ? 'warn' : r.severity);
  track.worst = severity;
  if (!track.open) {
    const needed = isFail(r.flag) ? Math.min(params.openAfter, params.openAfterFail) : params.openAfter;
    if (track.bad < Math.max(1, needed)) return null;
    track.open = severity;
    return { kind: 'open', check: r.check, severity, at, result: r, excerpt: [...state.excerpt] };
  }
  if (severityRank[severity] > severityRank[track.open]) {
    track.open = severity;
    return { kind: 'escalate', check: r.check, severity, at, result: r, excerpt: [...state.excerpt] };
  }
  return null;
}

/** Marks a check's event open (opened outside the stream, e.g. by the gap sweep); false when already open. */
export function markOpen(state: TrackerState, check: CheckName, severity: Severity): boolean {
  const track = state.checks[check] ?? { bad: 0, good: 0 };
  state.checks[check] = track;
  if (track.open) return false;
  track.open = severity;
  return true;
}

/** Marks a check's event closed; false when none was open. */
export function markClosed(state: TrackerState, check: CheckName): boolean {
  const track = state.checks[check];
  if (!track?.open) return false;
  delete track.open;
  track.bad = 0;
  return true;
}

function isFail(flag: QartodFlag): boolean {
  return flag === 4 || flag === 9;
}

function worse(a: Severity | undefined, b: Severity): Severity {
  return a !== undefined && severityRank[a] >= severityRank[b] ? a : b;
}

// Precedence of a reading's final flag (docs/data-quality.md, "In the pipeline"): the same order as the
// detectors' aggregate, so a missing value outranks a fail, a fail a suspect (e.g. maintenance's 3), a suspect
// a pass, and "not evaluated" loses to any verdict.
const flagRank: Readonly<Record<number, number>> = { 2: 0, 1: 1, 3: 2, 4: 3, 9: 4 };

/** The worse of the pipeline's flag (mapping, maintenance) and the detectors' flag. */
export function combineFlags(pipeline: number, detectors: QartodFlag): number {
  return (flagRank[detectors] ?? 0) > (flagRank[pipeline] ?? 0) ? detectors : pipeline;
}
