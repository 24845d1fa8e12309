import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_PARAMETERS,
  calibrationDue,
  calibrationStep,
  gapCheck,
} from '../../../../src/quality/detectors/index.ts';

const DAY = 86_400_000;
const last = Date.UTC(2026, 0, 1);
const params = structuredClone(BUILT_IN_PARAMETERS);

describe('calibrationDue', () => {
  it('passes well before the due date, warns 14 days before it', () => {
    const device = { lastCalibratedAt: last, intervalDays: 90 };
    expect(calibrationDue(device, last + 70 * DAY, params)).toMatchObject({ flag: 1, observed: 20 });
    expect(calibrationDue(device, last + 76 * DAY, params)).toMatchObject({
      flag: 3,
      severity: 'warn',
      observed: 14,
      threshold: 14,
      details: { dueAt: '2026-04-01T00:00:00.000Z' },
    });
  });

  it('fails a calibration exactly due, and one overdue', () => {
    const device = { lastCalibratedAt: last, intervalDays: 90 };
    expect(calibrationDue(device, last + 90 * DAY, params)).toMatchObject({
      flag: 4,
      severity: 'fail',
      observed: 0,
    });
    expect(calibrationDue(device, last + 90 * DAY - 1, params).flag).toBe(3);
    expect(calibrationDue(device, last + 100 * DAY, params)).toMatchObject({ flag: 4, observed: -10 });
  });

  it('says info (not evaluated) without a calibration record or interval', () => {
    expect(calibrationDue({ lastCalibratedAt: null, intervalDays: 90 }, last, params)).toMatchObject({
      flag: 2,
      severity: 'info',
      details: { reason: 'no calibration record for the device' },
    });
    expect(calibrationDue({ lastCalibratedAt: last, intervalDays: null }, last, params).flag).toBe(2);
  });
});

describe('calibrationStep', () => {
  const before = [0.9, 1.1, 1.0, 0.95, 1.05, 1.0, 0.98, 1.02];
  it('records the offset and passes a small step', () => {
    const r = calibrationStep(before, [1.01, 0.99, 1.0], params);
    expect(r.flag).toBe(1);
    expect(r.details.offset).toBeCloseTo(0, 6);
  });

  it('flags a step larger than 3 robust sigmas: the calibration moved the level', () => {
    const r = calibrationStep(before, [0.1, 0.0, -0.1], params);
    expect(r).toMatchObject({ flag: 3, details: { finding: 'level changed' } });
    expect(r.observed).toBeCloseTo(-1, 6);
  });

  it('flags no change while drift was open: the calibration did not fix it', () => {
    const r = calibrationStep(before, [1.0, 1.01, 0.99], params, { driftOpen: true });
    expect(r).toMatchObject({
      flag: 3,
      details: { finding: 'calibration did not change the drifting level' },
    });
  });

  it('is not evaluated without residuals on both sides', () => {
    expect(calibrationStep([], [1], params)).toMatchObject({ flag: 2, details: { before: 0, after: 1 } });
  });
});

describe('gapCheck', () => {
  it('uses the rules default interval when the device has none, and says so when there is neither', () => {
    const p = { ...params, gap: { ...params.gap, defaultIntervalS: 60 } };
    expect(gapCheck(0, 4 * 60_000, { metric: 'x' }, p)).toMatchObject({
      flag: 3,
      details: { intervalSource: 'rules' },
    });
    expect(gapCheck(0, 11 * 60_000, { metric: 'x' }, p).flag).toBe(4);
    expect(gapCheck(0, 11 * 60_000, { metric: 'x' }, params).flag).toBe(2);
  });
});
