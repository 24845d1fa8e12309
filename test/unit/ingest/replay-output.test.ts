import { describe, expect, it } from 'vitest';
import { parseIds, printReplay } from '../../../src/cli/dlq.ts';

describe('dlq replay output', () => {
  it('names each letter that did not load, and why', () => {
    const lines: string[] = [];
    printReplay(
      {
        replayed: [4],
        stillFailing: [{ id: 5, code: 'TOO_LATE', message: 'reading time … load it as a backfill' }],
        skipped: [
          { id: 6, reason: 'already_replayed', message: 'already replayed at 2026-12-01T02:30:00.000Z' },
          { id: 7, reason: 'locked', message: 'locked by another replayer (try again when it is done)' },
        ],
      },
      3,
      (l) => lines.push(l),
    );
    expect(lines).toEqual([
      '#5 still fails: TOO_LATE: reading time … load it as a backfill',
      '#6 not replayed: already replayed at 2026-12-01T02:30:00.000Z',
      '#7 not replayed: locked by another replayer (try again when it is done)',
      'replayed 1 (#4), still failing 1, not replayed 2; 3 rollup hour(s) recomputed',
    ]);
  });

  it('takes ids as dlq list prints them, and refuses anything else', () => {
    expect(parseIds([])).toBeUndefined();
    expect(parseIds(['12', '#13'])).toEqual([12, 13]);
    expect(() => parseIds(['12x'])).toThrow("'12x' is not a dead letter id");
  });
});
