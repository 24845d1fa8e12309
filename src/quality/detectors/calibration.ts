import { notEvaluated, result } from './flags.ts';
import { robustScale } from './robust.ts';
import type { CheckParameters, CheckResult } from './types.ts';

const DAY_MS = 86_400_000;

/**
 * Calibration due from MDM (dim_device.last_calibrated_at + calibration_interval_days): suspect from
 * `warnDaysBefore` days before the due date, fail from the due instant on (a calibration exactly due fails).
 */
export function calibrationDue(
  d: { lastCalibratedAt: number | null; intervalDays: number | null },
  now: number,
  params: CheckParameters,
): CheckResult {
  if (d.lastCalibratedAt === null)
    return notEvaluated('calibration_due', 'no calibration record for the device');
  if (d.intervalDays === null || !(d.intervalDays > 0))
    return notEvaluated('calibration_due', 'the device has no calibration interval');
  const dueAt = d.lastCalibratedAt + d.intervalDays * DAY_MS;
  const daysLeft = (dueAt - now) / DAY_MS;
  const warnDays = params.calibrationDue.warnDaysBefore;
  const flag = daysLeft <= 0 ? 4 : daysLeft <= warnDays ? 3 : 1;
  return result('calibration_due', flag, daysLeft, flag === 4 ? 0 : warnDays, {
    lastCalibratedAt: new Date(d.lastCalibratedAt).toISOString(),
    intervalDays: d.intervalDays,
    dueAt: new Date(dueAt).toISOString(),
    warnDaysBefore: warnDays,
  });
}

/**
 * The level step across a calibration: mean peer residual in the window after it minus the window before.
 * Suspect when it exceeds `warnSigma` robust sigmas of the residual before (the calibration moved the level:
 * drift baselines need a reset), or when it is within `noChangeSigma` while a drift event was open (the
 * calibration did not fix the drift). The offset is in `details` either way.
 */
export function calibrationStep(
  before: number[],
  after: number[],
  params: CheckParameters,
  context: { driftOpen?: boolean } = {},
): CheckResult {
  const b = before.filter(Number.isFinite);
  const a = after.filter(Number.isFinite);
  if (b.length < 2 || a.length < 1)
    return notEvaluated('calibration_step', 'needs residuals on both sides of the calibration', {
      before: b.length,
      after: a.length,
    });
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const offset = mean(a) - mean(b);
  const { sigma } = robustScale(b);
  const { warnSigma, noChangeSigma } = params.calibrationStep;
  const details = {
    offset,
    sigmaBefore: sigma,
    before: b.length,
    after: a.length,
    driftOpen: !!context.driftOpen,
  };
  if (Math.abs(offset) > warnSigma * sigma)
    return result('calibration_step', 3, offset, warnSigma * sigma, { ...details, finding: 'level changed' });
  if (context.driftOpen && Math.abs(offset) <= noChangeSigma * sigma)
    return result('calibration_step', 3, offset, noChangeSigma * sigma, {
      ...details,
      finding: 'calibration did not change the drifting level',
    });
  return result('calibration_step', 1, offset, warnSigma * sigma, details);
}
