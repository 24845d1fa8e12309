import { describe, expect, it } from 'vitest';
import type { CheckResult, QartodFlag } from '../../../../src/quality/detectors/index.ts';
import {
  combineFlags,
  emptyTracker,
  markClosed,
  markOpen,
  noteReading,
  trackResults,
} from '../../../../src/quality/monitor/event-tracker.ts';

const params = { openAfter: 2, openAfterFail: 1, closeAfter: 3 };
const r = (flag: QartodFlag, check: CheckResult['check'] = 'flat_line'): CheckResult => ({
  check,
  flag,
  severity: flag === 4 || flag === 9 ? 'fail' : flag === 3 ? 'warn' : 'info',
  observed: 1,
  threshold: 2,
  details: {},
});

describe('dq event hysteresis', () => {
  it('opens after open_after suspects in a row, escalates on a fail, closes after close_after passes', () => {
    const s = emptyTracker();
    expect(trackResults(s, [r(3)], 1, params)).toEqual([]);
    const open = trackResults(s, [r(3)], 2, params);
    expect(open).toMatchObject([{ kind: 'open', check: 'flat_line', severity: 'warn', at: 2 }]);
    expect(trackResults(s, [r(4)], 3, params)).toMatchObject([{ kind: 'escalate', severity: 'fail' }]);
    expect(trackResults(s, [r(1)], 4, params)).toEqual([]);
    expect(trackResults(s, [r(1)], 5, params)).toEqual([]);
    expect(trackResults(s, [r(1)], 6, params)).toMatchObject([{ kind: 'close', at: 6 }]);
  });

  it('opens on the first fail, and a suspect between passes restarts the count to close', () => {
    const s = emptyTracker();
    expect(trackResults(s, [r(4, 'spike')], 1, params)).toMatchObject([{ kind: 'open', severity: 'fail' }]);
    trackResults(s, [r(1, 'spike')], 2, params);
    trackResults(s, [r(1, 'spike')], 3, params);
    expect(trackResults(s, [r(3, 'spike')], 4, params)).toEqual([]);
    trackResults(s, [r(1, 'spike')], 5, params);
    trackResults(s, [r(1, 'spike')], 6, params);
    expect(trackResults(s, [r(1, 'spike')], 7, params)).toMatchObject([{ kind: 'close' }]);
  });

  it('counts "not evaluated" neither way', () => {
    const s = emptyTracker();
    trackResults(s, [r(3)], 1, params);
    trackResults(s, [r(2)], 2, params);
    expect(trackResults(s, [r(3)], 3, params)).toMatchObject([{ kind: 'open' }]);
  });

  it('keeps a bounded excerpt and puts it in the opening transition', () => {
    const s = emptyTracker();
    for (let i = 0; i < 30; i++) noteReading(s, i, i * 2);
    expect(s.excerpt).toHaveLength(12);
    expect(s.excerpt[0]).toEqual([18, 36]);
    const [open] = trackResults(s, [r(4)], 30, params);
    expect(open?.kind === 'open' && open.excerpt.length).toBe(12);
  });

  it('marks events opened and closed outside the stream once', () => {
    const s = emptyTracker();
    expect(markOpen(s, 'gap', 'fail')).toBe(true);
    expect(markOpen(s, 'gap', 'fail')).toBe(false);
    expect(markClosed(s, 'gap')).toBe(true);
    expect(markClosed(s, 'gap')).toBe(false);
  });
});

describe('combineFlags', () => {
  it('takes the worse flag: 9 > 4 > 3 > 1 > 2', () => {
    expect(combineFlags(3, 1)).toBe(3); // maintenance stays suspect when the detectors pass
    expect(combineFlags(3, 4)).toBe(4);
    expect(combineFlags(2, 1)).toBe(1);
    expect(combineFlags(1, 2)).toBe(1);
    expect(combineFlags(4, 3)).toBe(4);
    expect(combineFlags(9, 4)).toBe(9);
    expect(combineFlags(2, 9)).toBe(9);
  });
});
