import { notEvaluated, result } from './flags.ts';
import type { CheckParameters, CheckResult, SeriesSpec } from './types.ts';

/** The cadence to hold a series to: the device's, else the rules file's default, else a learned one. */
export function expectedIntervalS(
  spec: SeriesSpec,
  params: CheckParameters,
  learnedS: number | null = null,
): { intervalS: number; source: 'device' | 'rules' | 'learned' } | null {
  if (spec.expectedIntervalS != null && spec.expectedIntervalS > 0)
    return { intervalS: spec.expectedIntervalS, source: 'device' };
  if (params.gap.defaultIntervalS != null) return { intervalS: params.gap.defaultIntervalS, source: 'rules' };
  if (learnedS != null && learnedS > 0) return { intervalS: learnedS, source: 'learned' };
  return null;
}

/**
 * Heartbeat / gap: the silence since `lastReceivedTs` (a reading's ts, epoch ms) at `now`, against the
 * expected interval. Suspect after `warnIntervals` intervals, fail after `failIntervals`.
 */
export function gapCheck(
  lastReceivedTs: number,
  now: number,
  spec: SeriesSpec,
  params: CheckParameters,
  learnedIntervalS: number | null = null,
): CheckResult {
  const cadence = expectedIntervalS(spec, params, learnedIntervalS);
  if (!cadence)
    return notEvaluated('gap', 'no expected interval: the device has none, the rules file gives no default');
  const silenceS = Math.max(0, (now - lastReceivedTs) / 1000);
  const warnS = params.gap.warnIntervals * cadence.intervalS;
  const failS = params.gap.failIntervals * cadence.intervalS;
  const flag = silenceS > failS ? 4 : silenceS > warnS ? 3 : 1;
  return result('gap', flag, silenceS, flag === 4 ? failS : warnS, {
    expectedIntervalS: cadence.intervalS,
    intervalSource: cadence.source,
    missedIntervals: Math.max(0, Math.round(silenceS / cadence.intervalS) - 1),
    lastReceivedAt: new Date(lastReceivedTs).toISOString(),
    warnAfterS: warnS,
    failAfterS: failS,
  });
}
