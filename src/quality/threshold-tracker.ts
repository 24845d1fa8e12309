import type { ThresholdRule } from './alert-rules.ts';

/**
 * Where one (device, threshold rule) pair stands. `pending`: in breach since `since`, not long enough to open;
 * `active`: the alert is open (or suppressed); `recovering`: the alert is open but the value has been back in
 * the band since `since`.
 */
export interface ThresholdState {
  phase: 'normal' | 'pending' | 'active' | 'recovering';
  since: number;
  openedAt: number;
  escalated: boolean;
  /** The active alert is suppressed (maintenance); the engine un-suppresses it once the work order closes. */
  suppressed: boolean;
  /** Timestamp of the last reading applied; older readings are ignored (out of order). */
  lastTs: number;
}

export type ThresholdDecision =
  | { action: 'none' }
  | { action: 'open'; severe: boolean; breachSince: number }
  | { action: 'escalate'; reason: 'margin' | 'duration' }
  | { action: 'clear'; recoveredSince: number }
  /** Still in breach while active: the engine may un-suppress a suppressed alert. */
  | { action: 'breach' };

export function normalState(): ThresholdState {
  return { phase: 'normal', since: 0, openedAt: 0, escalated: false, suppressed: false, lastTs: -Infinity };
}

export function activeState(openedAt: number, escalated: boolean, suppressed: boolean): ThresholdState {
  return { phase: 'active', since: 0, openedAt, escalated, suppressed, lastTs: -Infinity };
}

/**
 * Applies one reading to the state, in place, and says what the alert should do. Pure: no I/O, time is the
 * reading's. A breach shorter than `for` returns to normal without opening (flapping); an open alert clears
 * only after `clear_for` inside the band narrowed by `hysteresis`; values between the limit and the band
 * keep the alert as it is.
 */
export function applyReading(
  rule: ThresholdRule,
  state: ThresholdState,
  ts: number,
  value: number,
  limit: number,
): ThresholdDecision {
  if (ts <= state.lastTs) return { action: 'none' };
  state.lastTs = ts;
  const excess = rule.direction === 'above' ? value - limit : limit - value;
  const breach = excess > 0;
  const recovered = excess <= -rule.hysteresis;
  const severe = rule.escalate.margin !== null && excess >= rule.escalate.margin;

  switch (state.phase) {
    case 'normal':
    case 'pending': {
      if (!breach) {
        state.phase = 'normal';
        return { action: 'none' };
      }
      if (state.phase === 'normal') {
        state.phase = 'pending';
        state.since = ts;
      }
      if (ts - state.since < rule.forMs) return { action: 'none' };
      const breachSince = state.since;
      Object.assign(state, { phase: 'active', openedAt: ts, escalated: severe, suppressed: false });
      return { action: 'open', severe, breachSince };
    }
    case 'active':
    case 'recovering': {
      if (recovered) {
        if (state.phase === 'active') {
          state.phase = 'recovering';
          state.since = ts;
        }
        if (ts - state.since < rule.clearForMs) return { action: 'none' };
        const recoveredSince = state.since;
        Object.assign(state, normalState(), { lastTs: ts });
        return { action: 'clear', recoveredSince };
      }
      state.phase = 'active';
      if (!breach) return { action: 'none' };
      if (!state.escalated) {
        const tooLong = rule.escalate.afterMs !== null && ts - state.openedAt >= rule.escalate.afterMs;
        if (severe || tooLong) {
          state.escalated = true;
          return { action: 'escalate', reason: severe ? 'margin' : 'duration' };
        }
      }
      return { action: 'breach' };
    }
  }
}
